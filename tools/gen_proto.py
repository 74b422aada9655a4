"""Generate the Python gRPC code from proto/ (run through `make proto`).

protoc writes modules that import each other as `lowart.v1.chat_pb2`, a
package that does not exist; this script generates into a scratch directory,
rewrites those imports to the package each copy lives in, and writes flat
modules into every target. The output depends only on proto/ and the pinned
grpcio-tools version, so tests/proto/test_generated.py can regenerate into a
temporary directory and require byte-for-byte equality with what is committed.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
PROTO_PACKAGE_DIR = PROTO_ROOT / "lowart" / "v1"

# Where each generated copy lives, and the import path of that folder.
TARGETS = {
    "lowart/_proto": "lowart._proto",
    "clients/python/src/lowart_client/_proto": "lowart_client._proto",
}

_INIT = '"""Generated from proto/ by `make proto` (tools/gen_proto.py). Do not edit."""\n'
_IMPORT = re.compile(r"^from lowart\.v1 import (\w+)", re.MULTILINE)


def _run_protoc(scratch: Path) -> None:
    import grpc_tools
    from grpc_tools import protoc

    include = Path(grpc_tools.__file__).parent / "_proto"
    sources = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_PACKAGE_DIR.glob("*.proto"))
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{include}",
        f"--python_out={scratch}",
        f"--pyi_out={scratch}",
        f"--grpc_python_out={scratch}",
        *sources,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")


def generate(into: Path) -> list[Path]:
    """Write every target below `into`; return the files written."""
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        _run_protoc(scratch)
        generated = sorted((scratch / "lowart" / "v1").iterdir())
        for folder, package in TARGETS.items():
            out = into / folder
            out.mkdir(parents=True, exist_ok=True)
            for stale in out.glob("*_pb2*.py*"):
                stale.unlink()
            init = out / "__init__.py"
            init.write_text(_INIT)
            written.append(init)
            for source in generated:
                if source.suffix not in (".py", ".pyi"):
                    continue
                text = _IMPORT.sub(rf"from {package} import \1", source.read_text())
                target = out / source.name
                target.write_text(text)
                written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--into", type=Path, default=ROOT, help="root to write the targets under")
    args = parser.parse_args(argv)
    for path in generate(args.into):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
