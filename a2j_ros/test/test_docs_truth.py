"""What the README and docs name exists: repository paths, `a2j VERB` commands, options.

Paths are the backticked names that start with a folder of the repository (or of the
package: `config/`, `launch/`, `data/`, `test/`); placeholders (`<...>`, `*`, `$R`, `...`)
and outputs a command writes (`runs/`, `demo_out/`) are not paths of the repository.
Every `a2j VERB` must be a verb of the CLI whose `--help` answers, and every `--option`
written right after it must be one that verb accepts.
"""
import contextlib
import io
from pathlib import Path
import re

import pytest

from a2j_ros import cli

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / 'a2j_ros'
DOCS = [REPO / 'README.md'] + sorted((REPO / 'docs').glob('*.md')) + [REPO / 'tools' / 'README.md']
TOP = ('a2j_ros/', 'a2j_ros_msgs/', 'docs/', 'scripts/', 'tools/', '.ci/')
IN_PACKAGE = ('config/', 'launch/', 'data/', 'test/')
PLACEHOLDER = re.compile(r'[<>*$]|\.\.\.|\{|\bN\b|/path/')
VERB_CALL = re.compile(r'(?<![\w/.-])a2j ([a-z][a-z-]*)((?: +(?:--[a-z][\w-]*|[^\s`|]+))*)')


def _backticked(text):
    return re.findall(r'`([^`\n]+)`', text) + [
        line for block in re.findall(r'```[a-z]*\n(.*?)```', text, re.S)
        for line in block.splitlines()]


def repository_paths(text):
    """Return the repository paths named in ``text`` (markdown)."""
    found = set()
    for snippet in _backticked(text):
        for token in re.split(r'[\s=:,;()\'"]+', snippet):
            token = token.rstrip('.')
            if token.startswith(TOP + IN_PACKAGE) and not PLACEHOLDER.search(token):
                found.add(token)
    return found


def _exists(token):
    message = re.fullmatch(r'(\w+_msgs)/([A-Z]\w*)', token)      # a message type, e.g.
    if message:                                                # a2j_ros_msgs/SkeletonArray
        token = f'{message[1]}/msg/{message[2]}.msg'
    return any((root / token).exists() for root in (REPO, PACKAGE))


def verb_calls(text):
    """Return (verb, [--options]) of every `a2j VERB ...` written in ``text``."""
    calls = []
    for snippet in _backticked(text):
        for verb, rest in VERB_CALL.findall(snippet):
            calls.append((verb, re.findall(r'(?<!\S)(--[a-z][\w-]*)', rest)))
    return calls


def _help(verb):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_info:
        cli.main([verb, '--help'])
    return exit_info.value.code, out.getvalue()


@pytest.mark.parametrize('doc', DOCS, ids=lambda p: p.name)
def test_named_paths_exist(doc):
    missing = sorted(t for t in repository_paths(doc.read_text()) if not _exists(t))
    assert missing == []


def test_every_verb_and_option_the_docs_name_answers():
    helps, wrong = {}, []
    for doc in DOCS:
        for verb, options in verb_calls(doc.read_text()):
            if verb not in cli.VERBS:
                wrong.append(f'{doc.name}: a2j {verb}: no such verb')
                continue
            if verb not in helps:
                helps[verb] = _help(verb)
            code, text = helps[verb]
            if code != 0:
                wrong.append(f'{doc.name}: a2j {verb} --help exits {code}')
            wrong += [f'{doc.name}: a2j {verb} {o}: unknown option' for o in options
                      if o not in text]
    assert len(helps) >= 6
    assert wrong == []


def test_the_checks_find_what_is_missing():
    text = ('Run `a2j evaluate --pred X` or `a2j eval --nope 1`; see `docs/nothing.md`, '
            '`config/hand_pose.yaml`, `runs/x/best.pt`, `a2j_ros/<name>.py`.\n'
            '```bash\na2j bench --all --json b.json\n```\n')
    assert repository_paths(text) == {'docs/nothing.md', 'config/hand_pose.yaml'}
    assert not _exists('docs/nothing.md') and _exists('config/hand_pose.yaml')
    assert _exists('a2j_ros_msgs/SkeletonArray') and not _exists('a2j_ros_msgs/Skeletons')
    assert verb_calls(text) == [('evaluate', ['--pred']), ('eval', ['--nope']),
                                ('bench', ['--all', '--json'])]
    assert '--nope' not in _help('eval')[1] and '--json' in _help('bench')[1]
