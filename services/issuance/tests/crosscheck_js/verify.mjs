// Verify Data Integrity proofs with Digital Bazaar's implementation (jsonld-signatures,
// @digitalbazaar/eddsa-rdfc-2022-cryptosuite, jsonld.js with rdf-canonize): another language and
// another canonicalizer than MIMIS's (pyld). Reads {documents, didDocuments, contexts} as JSON on
// stdin; prints one JSON line per document: {"name", "verified", "error"}. Safe mode is on, and
// the document loader serves only what it was handed: nothing is fetched.
import jsigs from 'jsonld-signatures';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';

const {purposes: {AssertionProofPurpose}} = jsigs;

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const documentLoader = async url => {
  if (input.contexts[url]) return {contextUrl: null, documentUrl: url, document: input.contexts[url]};
  const [did] = url.split('#');
  const controller = input.didDocuments[did];
  if (controller) {
    if (!url.includes('#')) return {contextUrl: null, documentUrl: url, document: controller};
    const method = controller.verificationMethod.find(m => m.id === url);
    if (method) {
      return {contextUrl: null, documentUrl: url,
        document: {'@context': 'https://w3id.org/security/multikey/v1', ...method}};
    }
  }
  throw new Error(`refused to load ${url}`);
};

for (const [name, document] of Object.entries(input.documents)) {
  const [did] = document.proof.verificationMethod.split('#');
  const result = await jsigs.verify(document, {
    suite: new DataIntegrityProof({cryptosuite}),
    purpose: new AssertionProofPurpose({controller: input.didDocuments[did]}),
    documentLoader,
    safe: true,
  });
  const errors = result.verified ? [] : (result.error?.errors ?? [result.error]);
  console.log(JSON.stringify({name, verified: result.verified, error: errors.map(e => e?.message).join(' | ')}));
}
