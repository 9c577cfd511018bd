"""The repository names no path of a particular machine, and no folder outside itself."""
from pathlib import Path
import re
import subprocess

REPO = Path(__file__).resolve().parents[2]
# /work/..., /home/<user>/..., /root/..., /Users/<user>/..., C:\..., or a climb to ../shared
FORBIDDEN = re.compile(r'(?<![\w.])(/work/|/home/\w|/root/|/Users/\w|[A-Za-z]:\\\\)|\.\./shared')


def _tracked(*paths):
    out = subprocess.run(['git', 'ls-files', '-z', '--', *paths], cwd=REPO, capture_output=True,
                         check=True).stdout
    return [REPO / p for p in out.decode().split('\0') if p]


def offending_lines(files, root=REPO):
    """Return 'path:line: text' for every line naming a machine path or ../shared."""
    found = []
    for path in files:
        try:
            text = path.read_text(encoding='utf-8')
        except (UnicodeDecodeError, IsADirectoryError, FileNotFoundError):
            continue                       # binaries (bags, checkpoints, .mat) hold no paths
        for number, line in enumerate(text.splitlines(), 1):
            if FORBIDDEN.search(line):
                found.append(f'{path.relative_to(root)}:{number}: {line.strip()}')
    return found


def test_package_scripts_and_makefile_name_no_machine_path():
    this = Path(__file__).resolve()            # it names the patterns it looks for
    files = [f for f in _tracked('a2j_ros', 'scripts', 'Makefile', 'tools') if f != this]
    assert len(files) > 50
    assert offending_lines(files) == []


def test_the_check_sees_machine_paths(tmp_path):
    root, up, home = '/' + 'work/shared/reference', '..' + '/shared/x', '/' + 'home/alice/d'
    (tmp_path / 'x.py').write_text(f"A = '{root}'\nB = Path('..') / '{up}'\nC = '{home}'\n"
                                   "D = 'a2j_ros/test/data'\n")
    (tmp_path / 'y.pt').write_bytes(b'\x80\xff' + root.encode())
    found = offending_lines([tmp_path / 'x.py', tmp_path / 'y.pt'], tmp_path)
    assert [line.split(':')[1] for line in found] == ['1', '2', '3']
