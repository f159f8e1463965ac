"""Every report caption a rule names exists (a missing one fails only at `--report`)."""

import re

from conftest import ROOT

CAPTION = re.compile(r"""caption\s*=\s*["']([^"']+)["']""")


def test_every_caption_named_in_the_rules_exists():
    named = [
        (smk.name, caption)
        for smk in sorted((ROOT / "rules").glob("*.smk"))
        for caption in CAPTION.findall(smk.read_text())
    ]
    assert len(named) >= 20  # the regex finds the rules' captions
    missing = [(rule, c) for rule, c in named if not (ROOT / "rules" / c).resolve().is_file()]
    assert not missing, f"captions named in rules/ but missing: {missing}"
