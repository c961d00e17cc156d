"""docs/tutorial.md: every section has a stable anchor right before its heading, and every anchor the
views link to exists."""
import re
from pathlib import Path

from cnn101.explain.overview import TUTORIAL

TEXT = (Path(__file__).resolve().parents[1] / "docs" / "tutorial.md").read_text(encoding="utf-8")
TOPICS = ["what-is-a-cnn", "input", "convolution", "hyperparameters", "relu", "pooling", "flatten", "dense",
          "softmax", "backpropagation", "attribution", "how-to-use"]


def anchors():
    return re.findall(r'^<a id="(tutorial-[a-z0-9-]+)"></a>\n## \S', TEXT, flags=re.M)


def test_one_anchor_per_section_in_order():
    assert anchors() == [f"tutorial-{t}" for t in TOPICS]
    assert len(re.findall(r"^## ", TEXT, flags=re.M)) == len(TOPICS)


def test_every_anchor_the_overview_links_to_exists():
    for section in set(TUTORIAL.values()):
        assert f"tutorial-{section}" in anchors(), section


def test_the_why_views_link_to_existing_sections():
    import importlib

    attribution = importlib.import_module("cnn101.explain.attribution")
    backward = importlib.import_module("cnn101.explain.backward")

    assert attribution.TUTORIAL in anchors() and backward.TUTORIAL in anchors()


def subsections():
    return re.findall(r'^<a id="(tutorial-[a-z0-9-]+)"></a>\n### \S', TEXT, flags=re.M)


def test_each_backward_view_and_attribution_method_has_its_own_text():
    """Every backward view links to its layer's subsection of 'Backpropagation', every attribution method
    (and FGSM) to its own subsection of 'Attribution'; each has a few sentences of text."""
    from cnn101.explain.attribution import FRAGILE_TUTORIAL, TUTORIALS as METHODS
    from cnn101.explain.attribution import METHODS as NAMES
    from cnn101.explain.backward import TUTORIALS as VIEWS
    from cnn101.explain.routing import CONV, DENSE, FLATTEN, POOL, RELU, SOFTMAX

    assert set(VIEWS) == {CONV, DENSE, FLATTEN, POOL, RELU, SOFTMAX}
    assert set(NAMES) <= set(METHODS) and "occlusion" in METHODS
    back = TEXT.index('<a id="tutorial-backpropagation">')
    attr = TEXT.index('<a id="tutorial-attribution">')
    end = TEXT.index('<a id="tutorial-how-to-use">')
    for anchor in [*VIEWS.values(), *METHODS.values(), FRAGILE_TUTORIAL]:
        assert anchor in subsections(), anchor
        at = TEXT.index(f'<a id="{anchor}">')
        assert (back < at < attr) if anchor in VIEWS.values() else (attr < at < end), anchor
        body = TEXT[at:].split("\n\n")[1]  # the paragraph after the heading
        assert len(body.split()) >= 25, anchor
