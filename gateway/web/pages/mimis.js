// Shared by the MIMIS web pages: GraphQL over fetch (same origin as the gateway) and sv/en texts.
export async function gql(query, variables = {}) {
  const answer = await fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await answer.json();
  if (body.errors && body.errors.length && !body.data) {
    throw new Error(body.errors.map((e) => e.message).join("; "));
  }
  return body;
}

export function language() {
  const asked = new URLSearchParams(location.search).get("lang") || localStorage.getItem("mimis-lang");
  return asked === "en" ? "en" : "sv";
}

export function setUpLanguage(texts, render) {
  const buttons = document.querySelectorAll("[data-lang]");
  const apply = () => {
    const lang = language();
    document.documentElement.lang = lang;
    for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.lang === lang));
    for (const el of document.querySelectorAll("[data-t]")) el.textContent = texts[lang][el.dataset.t];
    for (const el of document.querySelectorAll("[data-tp]")) el.placeholder = texts[lang][el.dataset.tp];
    render();
  };
  for (const b of buttons) {
    b.addEventListener("click", () => {
      localStorage.setItem("mimis-lang", b.dataset.lang);
      const url = new URL(location.href);
      url.searchParams.set("lang", b.dataset.lang);
      history.replaceState(null, "", url);
      apply();
    });
  }
  apply();
}

export function text(localized) {
  if (!localized) return "";
  return (language() === "en" && localized.en) || localized.sv;
}

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) {
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children.flat()) node.append(child instanceof Node ? child : String(child ?? ""));
  return node;
}
