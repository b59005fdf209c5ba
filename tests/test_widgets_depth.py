"""The depth explorer (lesson 07): its numbers, its fall-back to the references, and its redraws."""

import io
import time

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from autograder.exercises import vanishing_exploding as lesson  # noqa: E402
from bplib.layers import Linear  # noqa: E402
from bplib.widgets import depth  # noqa: E402
from bplib.widgets.depth import depth_statistics, diagnosis  # noqa: E402


def _headful(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("BPCOURSE_HEADLESS", raising=False)


# --- the numbers --------------------------------------------------------------------------------------

def test_sigmoid_with_small_weights_vanishes_geometrically_towards_the_input():
    stats = depth_statistics(depth=20, width=32, activation="sigmoid", init="small")
    norms = stats.gradient_norms
    assert norms.shape == (20,)
    assert np.all(np.diff(np.log(norms)) > 0)  # every layer gets less than the one above it
    assert norms[0] < 1e-25 * norms[-1]
    # each layer back multiplies by about sigmoid'(0) * std * sqrt(width) = 0.25 * 0.01 * sqrt(32)
    per_layer = np.exp(np.mean(np.diff(np.log(norms[1:-1]))))
    assert 1 / per_layer == pytest.approx(0.25 * 0.01 * np.sqrt(32), rel=0.3)
    assert np.allclose(stats.activation_mean, 0.5, atol=0.01) and np.all(stats.activation_std < 0.05)
    assert "Vanishing" in diagnosis(stats)


def test_he_with_relu_keeps_every_layer_within_a_small_factor():
    for seed in range(3):
        stats = depth_statistics(depth=50, width=64, activation="relu", init="he", seed=seed)
        norms = stats.gradient_norms
        assert norms.max() / norms.min() < 20  # at finite width the log-norm wanders a little
        assert 0.01 < norms.min() and norms.max() < 100
        assert np.allclose(stats.flat_fraction, 0.5, atol=0.15)  # ReLU zeroes about half its inputs
        assert "Healthy" in diagnosis(stats)


def test_tanh_with_xavier_is_healthy_and_large_weights_saturate_it():
    assert "Healthy" in diagnosis(depth_statistics(depth=20, width=32, activation="tanh", init="xavier"))
    large = depth_statistics(depth=20, width=32, activation="tanh", init="large")
    assert np.all(large.flat_fraction[1:] > 0.6)
    assert np.all(large.activation_std > 0.9)


def test_large_weights_with_relu_explode_and_grow_with_depth():
    shallow = depth_statistics(depth=10, width=32, activation="relu", init="large")
    deep = depth_statistics(depth=20, width=32, activation="relu", init="large")
    assert deep.gradient_norms.min() > 1e6
    # every extra layer multiplies by about sqrt(width / 2) = 4
    assert deep.gradient_norms[0] / shallow.gradient_norms[0] > 4 ** 10 / 10
    assert np.all(np.diff(np.log(deep.activation_std)) > 0)
    assert "Exploding" in diagnosis(deep)


def test_clipping_scales_every_layer_alike_and_only_above_the_cap():
    stats = depth_statistics(depth=20, width=32, activation="relu", init="large", clip_norm=1.0)
    factor = 1.0 / stats.total_norm
    np.testing.assert_allclose(stats.clipped_norms, stats.gradient_norms * factor, rtol=1e-9)
    assert np.linalg.norm(stats.clipped_norms) <= 1.0
    calm = depth_statistics(depth=5, width=16, activation="relu", init="he", clip_norm=1e3)
    np.testing.assert_array_equal(calm.clipped_norms, calm.gradient_norms)
    assert "nothing changes" in diagnosis(calm)


def test_depth_one_and_the_largest_settings_work():
    one = depth_statistics(depth=1)
    assert one.gradient_norms.shape == (1,) and one.activation_std.shape == (0,)
    big = depth_statistics(depth=depth.MAX_DEPTH, width=depth.MAX_WIDTH, activation="relu", init="large")
    assert np.all(np.isfinite(big.gradient_norms)) and big.gradient_norms.min() > 1e40


def test_the_same_seed_gives_the_same_numbers_and_bad_settings_are_refused():
    a, b = depth_statistics(seed=3), depth_statistics(seed=3)
    np.testing.assert_array_equal(a.gradient_norms, b.gradient_norms)
    with pytest.raises(ValueError, match="activation"):
        depth_statistics(activation="softplus")
    with pytest.raises(ValueError, match="depth"):
        depth_statistics(depth=0)


def test_learner_functions_are_the_ones_used():
    calls = []

    def xavier(fan_in, fan_out, rng):
        calls.append("xavier")
        return lesson.reference_xavier_init(fan_in, fan_out, rng)

    def norms(model):
        calls.append("norms")
        return [2.0] * sum(isinstance(layer, Linear) for layer in model.layers)

    def clip(grads, max_norm):
        calls.append("clip")
        return lesson.reference_clip_grad_norm(grads, max_norm)

    stats = depth_statistics(depth=4, activation="tanh", init="xavier", clip_norm=1.0,
                             initialisers={"xavier": xavier}, layer_gradient_norms=norms,
                             clip_grad_norm=clip)
    assert calls.count("xavier") == 4 and calls.count("norms") == 2 and calls.count("clip") == 1
    np.testing.assert_array_equal(stats.gradient_norms, [2.0] * 4)


def test_the_default_setting_is_quick():
    depth_statistics()
    start = time.perf_counter()
    for _ in range(5):
        depth_statistics()
    assert (time.perf_counter() - start) / 5 < 0.25  # the budget is 50 ms; loose for busy CI machines


# --- the picture, redrawn in place -------------------------------------------------------------

def _pixels(png):
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_the_picture_redrawn_in_place_is_exactly_a_fresh_drawing():
    picture = depth.Picture()
    for settings in [dict(depth=20), dict(depth=21), dict(depth=5), dict(depth=1),
                     dict(depth=20, activation="relu", init="large", clip_norm=0.1),
                     dict(depth=60, activation="tanh", init="xavier"), dict(depth=33, clip_norm=1e3)]:
        stats = depth_statistics(**settings)
        fresh = depth.draw(stats)
        fresh.canvas.draw()
        np.testing.assert_array_equal(_pixels(picture.update(stats)),
                                      np.asarray(fresh.canvas.buffer_rgba())[..., :3], err_msg=str(settings))


def test_only_panels_whose_axes_change_are_drawn_again(monkeypatch):
    from matplotlib.axes import Axes

    drawn = []
    original = Axes.draw
    monkeypatch.setattr(Axes, "draw", lambda ax, renderer: drawn.append(ax) or original(ax, renderer))
    picture = depth.Picture()
    grad, spread, flat = picture.live.axes
    picture.update(depth_statistics(depth=20, activation="tanh", init="xavier"))
    assert drawn == [grad, spread, flat]
    drawn.clear()
    for layers in (12, 15, 18):  # healthy: every limit stays at 1e-3 .. 1e3, the axis at 20 layers
        picture.update(depth_statistics(depth=layers, activation="tanh", init="xavier"))
    assert drawn == []
    picture.update(depth_statistics(depth=18, activation="relu", init="he"))
    assert drawn == []  # only curves and titles changed ("inactive" units, not "saturated")
    picture.update(depth_statistics(depth=25, activation="relu", init="he"))
    assert drawn == [grad, spread, flat]  # the layer axis now ends at 30
    drawn.clear()
    picture.update(depth_statistics(depth=18, activation="tanh", init="xavier"))
    assert drawn == []  # axes it has drawn before are kept


# --- the widget -----------------------------------------------------------------------------------------

def _controls(explorer):
    found, stack = {}, [explorer]
    while stack:
        widget = stack.pop()
        stack.extend(getattr(widget, "children", ()))
        if getattr(widget, "description", ""):
            found[widget.description] = widget
    return found


def _find(explorer, kind, css_class=None):
    stack, found = [explorer], []
    while stack:
        widget = stack.pop()
        stack.extend(getattr(widget, "children", ()))
        if type(widget).__name__ == kind and (css_class is None or css_class in widget._dom_classes):
            found.append(widget)
    return found


def _note(explorer):
    return _find(explorer, "HTML", "bplib-explorer-note")[0].value


def _picture(explorer):
    (image,) = _find(explorer, "Image")
    return image


def _not_implemented(*args):
    raise NotImplementedError()


def test_explorer_has_the_agreed_controls(monkeypatch):
    _headful(monkeypatch)
    controls = _controls(depth.depth_explorer())
    assert {"depth", "width", "activation", "init", "clip norm", "clip gradients"} <= set(controls)
    assert controls["depth"].min == 1 and controls["depth"].max >= 50
    assert not controls["depth"].continuous_update and not controls["clip norm"].continuous_update
    assert [value for _, value in controls["activation"].options] == ["sigmoid", "tanh", "relu"]
    assert [value for _, value in controls["init"].options] == ["small", "large", "xavier", "he"]


def test_explorer_with_no_learner_functions_says_it_uses_the_references(monkeypatch):
    _headful(monkeypatch)
    assert "Using the course's reference functions" in _note(depth.depth_explorer())


def test_explorer_with_unimplemented_stubs_shows_the_reference_and_a_note(monkeypatch):
    _headful(monkeypatch)
    explorer = depth.depth_explorer(xavier_init=_not_implemented, he_init=_not_implemented,
                                    clip_grad_norm=_not_implemented,
                                    layer_gradient_norms=_not_implemented)
    note = _note(explorer)
    for name in ("xavier_init", "he_init", "clip_grad_norm", "layer_gradient_norms"):
        assert f"Your {name} is not implemented yet" in note
    assert bytes(_picture(explorer).value).startswith(b"\x89PNG")


def test_explorer_uses_working_learner_functions(monkeypatch):
    _headful(monkeypatch)
    explorer = depth.depth_explorer(xavier_init=lesson.reference_xavier_init,
                                    he_init=lesson.reference_he_init,
                                    clip_grad_norm=lesson.reference_clip_grad_norm,
                                    layer_gradient_norms=lesson.reference_layer_gradient_norms)
    note = _note(explorer)
    assert "Using your own xavier_init, he_init, clip_grad_norm, layer_gradient_norms" in note
    assert "reference" not in note


def test_learner_function_with_a_wrong_shape_or_a_later_error_falls_back(monkeypatch):
    _headful(monkeypatch)

    def transposed(fan_in, fan_out, rng):
        return rng.normal(size=(fan_out, fan_in))

    def fails_on_wide_layers(fan_in, fan_out, rng):
        if fan_in > 16:
            raise ValueError("too wide")
        return lesson.reference_he_init(fan_in, fan_out, rng)

    explorer = depth.depth_explorer(xavier_init=transposed, he_init=fails_on_wide_layers, init="he")
    note = _note(explorer)
    assert "Your xavier_init returned shape (4, 6)" in note
    assert "Your he_init raised ValueError: too wide" in note
    assert bytes(_picture(explorer).value).startswith(b"\x89PNG")  # the reference was drawn


def test_each_change_redraws_once_in_place(monkeypatch):
    _headful(monkeypatch)
    calls, pictures = [], []
    original = depth.depth_statistics
    monkeypatch.setattr(depth, "depth_statistics", lambda *a, **k: calls.append(k) or original(*a, **k))

    class Recorded(depth.Picture):
        def update(self, stats):
            pictures.append(self)
            return super().update(stats)
    monkeypatch.setattr(depth, "Picture", Recorded)
    explorer = depth.depth_explorer()
    image = _picture(explorer)
    controls = _controls(explorer)
    assert len(calls) == 1
    shown = [bytes(image.value)]
    for name, value in [("depth", 30), ("width", 64), ("activation", "relu"), ("init", "he"),
                        ("clip gradients", True), ("clip norm", 0.1)]:
        controls[name].value = value
        assert _picture(explorer) is image
        shown.append(bytes(image.value))
    assert len(calls) == 7 and len(pictures) == 7 and len(set(map(id, pictures))) == 1  # one figure
    assert calls[-1]["depth"] == 30 and calls[-1]["clip_norm"] == pytest.approx(0.1)
    assert len(set(shown)) == 7  # every change drew a different picture
    assert shown[-1].startswith(b"\x89PNG")
    assert "Exploding" not in _find(explorer, "HTML", "bplib-explorer-status")[0].value


def test_headless_returns_a_placeholder_without_computing(monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.setattr(depth, "depth_statistics", lambda *a, **k: pytest.fail("computed"))
    start = time.perf_counter()
    placeholder = depth.depth_explorer(xavier_init=_not_implemented)
    assert time.perf_counter() - start < 0.5
    assert "interactive only" in placeholder.data


def test_a_setting_that_overflows_is_reported_not_raised(monkeypatch):
    _headful(monkeypatch)

    def huge(fan_in, fan_out, rng):
        return rng.normal(0.0, 1e200, (fan_in, fan_out))

    explorer = depth.depth_explorer(he_init=huge, activation="relu")
    drawn = bytes(_picture(explorer).value)
    _controls(explorer)["init"].value = "he"
    assert "cannot be computed" in _find(explorer, "HTML", "bplib-explorer-status")[0].value
    assert _picture(explorer).layout.display == "none"  # not the picture of the previous setting
    _controls(explorer)["init"].value = "xavier"  # and the next setting draws again
    assert _picture(explorer).layout.display is None and bytes(_picture(explorer).value) != drawn


def test_a_learner_function_that_breaks_on_deeper_networks_falls_back(monkeypatch):
    _headful(monkeypatch)

    def first_two_only(model):
        return lesson.reference_layer_gradient_norms(model)[:2]

    explorer = depth.depth_explorer(layer_gradient_norms=first_two_only)
    assert "Your layer_gradient_norms raised ValueError: returned 2 norms" in _note(explorer)
    assert bytes(_picture(explorer).value).startswith(b"\x89PNG")


def test_batch_norm_keeps_the_gradient_norms_of_a_deep_sigmoid_network_at_their_scale():
    """Lesson 07 says normalisation keeps gradients at their scale, and lesson 09 shows it: the
    explorer's switch shows it live (20 sigmoid layers, small weights)."""
    plain = depth_statistics(depth=20, width=32, activation="sigmoid", init="small")
    normed = depth_statistics(depth=20, width=32, activation="sigmoid", init="small", batch_norm=True)
    assert plain.gradient_norms[0] < 1e-25 * plain.gradient_norms[-1]  # vanishing without
    assert 0.01 < normed.gradient_norms[0] / normed.gradient_norms[-1] < 100  # kept at scale with
    assert normed.batch_norm and len(normed.activation_std) == 19  # activations, not the norm's outputs


def test_the_explorer_has_a_batch_norm_switch_that_changes_the_picture(monkeypatch):
    _headful(monkeypatch)
    explorer = depth.depth_explorer(depth=20, activation="sigmoid", init="small")
    switch = next(w for w in _all_widgets(explorer)
                  if getattr(w, "description", "").startswith("batch norm"))
    image = next(w for w in _all_widgets(explorer) if type(w).__name__ == "Image")
    before = image.value
    switch.value = True
    assert image.value != before


def _all_widgets(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _all_widgets(child)
