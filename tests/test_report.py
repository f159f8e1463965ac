"""Report captions: every one a rule names exists (a missing one fails only at `--report`),
and each is valid reStructuredText."""

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


def test_every_caption_is_valid_restructuredtext():
    # Snakemake renders a caption with Jinja, then docutils; a docutils error (an unescaped
    # |x| is a substitution reference) prints to the report run's stderr and garbles the
    # caption, without failing the run.
    import jinja2
    from docutils.core import publish_doctree

    class Placeholder(jinja2.ChainableUndefined):  # {{ snakemake.config[...] }} -> a word
        def __str__(self):
            return "value"

    jinja = jinja2.Environment(undefined=Placeholder)
    problems, captions = [], sorted((ROOT / "report").glob("*.rst"))
    assert len(captions) >= 20
    for caption in captions:
        text = jinja.from_string(caption.read_text()).render()
        doc = publish_doctree(text, settings_overrides={"report_level": 5, "halt_level": 5})
        problems += [f"{caption.name}: {message.astext()}"
                     for message in doc.parse_messages + doc.transform_messages]  # fmt: skip
    assert not problems, "\n".join(problems)
