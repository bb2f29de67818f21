"""The package's shape: ABC without torch, no import cycles, no borrowing of another module's private names."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "musicgen"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports(path: Path) -> list[ast.ImportFrom | ast.Import]:
    """Imports run when the module loads (not those inside functions, which load on use)."""
    tree = ast.parse(path.read_text())
    return [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]


def test_abc_reads_tunes_without_torch_or_music21():
    code = (
        "import sys\n"
        "import musicgen.abc.tunebook, musicgen.abc.melody, musicgen.abc.transpose, musicgen.abc.keys\n"
        "from musicgen.abc.tunebook import parse_tunebook\n"
        "tunes, _ = parse_tunebook('X:1\\nT:t\\nM:4/4\\nL:1/8\\nK:D\\nDEFG ABcd|\\n')\n"
        "assert len(tunes) == 1\n"
        "print(sorted(m for m in ('torch', 'music21') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_no_import_cycles_at_load_time():
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        names = set()
        for node in top_level_imports(path):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("musicgen"):
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names if alias.name.startswith("musicgen"))
        graph[module_name(path)] = names
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        assert name not in visiting, " -> ".join(visiting[visiting.index(name) :] + [name])
        if name in done or name not in graph:
            return
        visiting.append(name)
        for target in graph[name]:
            visit(target)
        visiting.pop()
        done.add(name)

    for name in graph:
        visit(name)
    assert "musicgen.cli.main" in graph and "musicgen.abc.tunebook" in graph


def test_no_module_imports_another_modules_private_names():
    borrowed = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("musicgen"):
                private = [alias.name for alias in node.names if alias.name.startswith("_")]
                borrowed += [f"{module_name(path)}: {node.module}.{name}" for name in private]
    assert borrowed == []
