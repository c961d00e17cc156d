"""cnn101.page: the caption, prediction line and model choice shared by the page and its build snapshot."""
import numpy as np

from cnn101.engine import Dense, Flatten, Sequential
from cnn101.explain.overview import overview
from cnn101.page import input_caption, prediction_text, site_model_file


def test_caption_and_prediction():
    m = Sequential([Flatten("f"), Dense("d", np.eye(12, 2, dtype="f4") * 4, np.zeros(2, "f4"))], (2, 3, 2),
                   ["cat", "dog"])
    ov = overview(m, m.trace(np.ones((2, 3, 2), "f4")))
    assert input_caption("koala", m) == "koala — the network's 2×3 input"
    p = float(ov.values(ov.columns[-1].index).max())
    assert prediction_text(ov) == f"Prediction: {ov.top(1)[0][0]} ({p:.1%})"


def test_which_model_a_site_shows():
    assert site_model_file(["a.json", "a.npz", "tiny-vgg.json", "tiny-vgg.npz", "model.json"]) == "tiny-vgg.json"
    assert site_model_file(["b.json", "b.npz", "a.json", "a.npz"]) == "a.json"
    assert site_model_file(["x.json", "model.json", "group1-shard1of1.bin"]) == "model.json"  # a card needs its .npz
    assert site_model_file(["notes.txt"]) is None
