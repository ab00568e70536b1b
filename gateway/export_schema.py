"""Writes the schema's SDL to gateway/schema.graphql (a test fails when the file and the code differ).

    .venv/bin/python -m gateway.export_schema           # rewrite the file
    .venv/bin/python -m gateway.export_schema --check   # exit 1 when it is stale
    (--file PATH: another file than gateway/schema.graphql)
"""

from __future__ import annotations

import sys
from pathlib import Path

from gateway.schema import build_schema

SCHEMA_FILE = Path(__file__).with_name("schema.graphql")


def sdl() -> str:
    return build_schema().as_str() + "\n"


def main(argv: list[str]) -> int:
    text = sdl()
    target = Path(argv[argv.index("--file") + 1]) if "--file" in argv else SCHEMA_FILE
    if "--check" in argv:
        current = target.read_text() if target.exists() else ""
        if current != text:
            print(f"{target} is stale; run: python -m gateway.export_schema", file=sys.stderr)
            return 1
        return 0
    target.write_text(text)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
