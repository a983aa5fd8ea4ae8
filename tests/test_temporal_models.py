"""Transformer and RNN models: padding is ignored, ONNX export matches PyTorch, variants stay close."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from edgewatch.export.temporal import export_trained, onnx_logits, read_temporal_metadata

from edgewatch.behaviour.data import Dataset
from edgewatch.behaviour.features import FeatureSpec
from edgewatch.behaviour.models import MASK_FILL, EncoderLayer, ModelConfig, build_model
from edgewatch.behaviour.train import TrainConfig, Trained, load_checkpoint, predict_logits, save_checkpoint, train
from edgewatch.errors import EdgewatchError

W, F, K = 12, 7, 3
KINDS = [("transformer", "cls"), ("transformer", "max"), ("transformer", "patch"), ("transformer", "causal"),
         ("lstm", "cls"), ("gru", "cls")]
#: Transformer variants: pooling, steps grouped into patch tokens, attention to older tokens only.
VARIANTS = {"cls": {"pool": "cls"}, "max": {"pool": "max"}, "patch": {"pool": "max", "patch": 4},
            "causal": {"pool": "max", "patch": 4, "causal": True}}


def windows(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, W, F)).astype(np.float32)
    mask = np.ones((n, W), np.float32)
    for i, valid in enumerate(rng.integers(1, W + 1, n)):
        mask[i, : W - valid] = 0.0
    return x * mask[..., None], mask


def model(kind: str, variant: str) -> torch.nn.Module:
    """A tiny model; ``variant`` names one of :data:`VARIANTS` (RNNs ignore it)."""
    torch.manual_seed(0)
    return build_model(ModelConfig(kind, F, K, W, d_model=16, layers=2, heads=2, ff=32, **VARIANTS[variant])).eval()


@pytest.mark.parametrize(("kind", "variant"), KINDS)
def test_padded_steps_do_not_change_the_output(kind: str, variant: str) -> None:
    net = model(kind, variant)
    x, mask = windows(8)
    garbage = x + (1 - mask)[..., None] * 100.0
    np.testing.assert_allclose(predict_logits(net, garbage, mask), predict_logits(net, x, mask), atol=1e-5)


@pytest.mark.parametrize(("kind", "variant"), KINDS)
def test_onnx_matches_pytorch_and_keeps_a_dynamic_batch(kind: str, variant: str, tmp_path: Path) -> None:
    net = model(kind, variant)
    spec = FeatureSpec(window=W, classes=("person",))
    trained = Trained(net, ("a", "b", "c"), spec, {"person": ["a", "b", "c"]}, [])
    path = export_trained(trained, tmp_path)["fp32"]
    for n in (1, 5):
        x, mask = windows(n, seed=n)
        ref = predict_logits(net, x, mask)
        out = onnx_logits(path, x, mask)
        assert out.shape == (n, K)
        np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
    meta = read_temporal_metadata(path)
    assert meta.behaviours == ("a", "b", "c") and meta.classes == ("person",)
    assert meta.feature_spec == spec
    assert meta.precision == "fp32" and meta.window == W and meta.applies_to == {"person": ("a", "b", "c")}


def test_a_window_the_patch_does_not_divide_is_padded_at_its_oldest_end(tmp_path: Path) -> None:
    """Window 10, patch 4: the same as window 12 with the two oldest steps masked, in PyTorch and ONNX."""
    torch.manual_seed(0)
    short = build_model(ModelConfig("transformer", F, K, 10, d_model=16, heads=2, ff=32, pool="max", patch=4,
                                    causal=True)).eval()
    wide = build_model(ModelConfig("transformer", F, K, 12, d_model=16, heads=2, ff=32, pool="max", patch=4,
                                   causal=True)).eval()
    wide.load_state_dict(short.state_dict())
    x, mask = windows(5)
    got = predict_logits(short, x[:, 2:], mask[:, 2:])
    mask[:, :2] = 0.0
    np.testing.assert_allclose(got, predict_logits(wide, x * mask[..., None], mask), rtol=1e-5, atol=1e-5)
    trained = Trained(short, ("a", "b", "c"), None, None, [])
    path = export_trained(trained, tmp_path)["fp32"]
    np.testing.assert_allclose(onnx_logits(path, x[:, 2:], windows(5)[1][:, 2:]), got, rtol=1e-4, atol=1e-4)
    with pytest.raises(EdgewatchError, match="--patch must be >= 1"):
        build_model(ModelConfig("transformer", F, K, W, patch=0))


def test_causal_attention_never_looks_at_newer_tokens() -> None:
    x, mask = windows(4)
    newer = np.triu(np.ones((W // 4 + 1, W // 4 + 1), bool), 1)  # [query, key]: key newer than query
    causal = model("transformer", "causal").attention(torch.from_numpy(x), torch.from_numpy(mask)).numpy()
    full = model("transformer", "patch").attention(torch.from_numpy(x), torch.from_numpy(mask)).numpy()
    assert np.all(causal[..., newer] == 0.0) and np.any(full[..., newer] > 0.0)
    with pytest.raises(EdgewatchError, match="causal attention needs --pool max"):
        build_model(ModelConfig("transformer", F, K, W, pool="cls", causal=True))


def test_encoder_layer_computes_what_pytorchs_pre_norm_layer_computes() -> None:
    """The hand-written layer (written for a lean export) is nn.TransformerEncoderLayer(norm_first=True)."""
    torch.manual_seed(0)
    d_model, heads, count = 16, 4, 5
    ours = EncoderLayer(d_model, heads, 32, 0.0).eval()
    reference = torch.nn.TransformerEncoderLayer(d_model, heads, 32, 0.0, batch_first=True, norm_first=True).eval()
    ours.load_state_dict({
        "norm1.weight": reference.norm1.weight, "norm1.bias": reference.norm1.bias,
        "qkv.weight": reference.self_attn.in_proj_weight, "qkv.bias": reference.self_attn.in_proj_bias,
        "out.weight": reference.self_attn.out_proj.weight, "out.bias": reference.self_attn.out_proj.bias,
        "norm2.weight": reference.norm2.weight, "norm2.bias": reference.norm2.bias,
        "feed_forward.0.weight": reference.linear1.weight, "feed_forward.0.bias": reference.linear1.bias,
        "feed_forward.3.weight": reference.linear2.weight, "feed_forward.3.bias": reference.linear2.bias,
    })
    tokens = torch.randn(3, count, d_model)
    # token 0 is never padding, as the CLS token in the model: a query with no key to read is NaN in PyTorch
    padding = torch.tensor([[False] * count, [False, True, True, False, False], [False, True, True, True, False]])
    order = torch.ones(count, count, dtype=torch.bool).triu(1)
    bias = (padding[:, None, None, :] | order).float() * MASK_FILL
    with torch.no_grad():
        expected = reference(tokens, src_mask=order, src_key_padding_mask=padding)
        torch.testing.assert_close(ours(tokens, bias), expected, rtol=1e-5, atol=1e-5)


def separable(n: int, seed: int) -> Dataset:
    """Three classes told apart by the mean of feature 0 over the valid steps."""
    x, mask = windows(n, seed)
    y = np.arange(n) % K
    x[..., 0] += (y[:, None] - 1.0) * 2.0 * mask
    return Dataset(x, mask, y.astype(np.int64), ("a", "b", "c"))


def test_training_learns_and_checkpoint_round_trips(tmp_path: Path) -> None:
    data = separable(240, 0)
    config = ModelConfig("gru", F, K, W, d_model=16, layers=2)
    trained = train(data, config, TrainConfig(epochs=15, lr=1e-2, patience=15))
    test = separable(90, 1)
    assert (predict_logits(trained.model, test.X, test.mask).argmax(1) == test.y).mean() > 0.9
    reloaded = load_checkpoint(save_checkpoint(trained, tmp_path / "m.pt"))
    assert reloaded.classes == data.classes
    np.testing.assert_allclose(predict_logits(reloaded.model, test.X, test.mask),
                               predict_logits(trained.model, test.X, test.mask), atol=1e-6)


def test_a_checkpoint_whose_weights_do_not_fit_is_refused_in_one_line(tmp_path: Path) -> None:
    """As a checkpoint written with nn.TransformerEncoder's parameter names is."""
    net = model("transformer", "causal")
    path = save_checkpoint(Trained(net, ("a", "b", "c"), None, None, []), tmp_path / "old.pt")
    saved = torch.load(path, weights_only=True)
    saved["state_dict"] = {k.replace("layers.", "encoder.layers."): v for k, v in saved["state_dict"].items()}
    torch.save(saved, path)
    with pytest.raises(EdgewatchError, match="weights do not fit this edgewatch's transformer model"):
        load_checkpoint(path)


def test_fp16_and_int8_variants_agree_with_fp32(tmp_path: Path) -> None:
    data = separable(240, 0)
    trained = train(data, ModelConfig("transformer", F, K, W, d_model=16, heads=2, ff=32),
                    TrainConfig(epochs=10, lr=5e-3))
    paths = export_trained(trained, tmp_path, ("fp32", "fp16", "int8"), (data.X[:64], data.mask[:64]))
    test = separable(90, 1)
    ref = onnx_logits(paths["fp32"], test.X, test.mask).argmax(1)
    for precision in ("fp16", "int8"):
        assert read_temporal_metadata(paths[precision]).precision == precision
        assert (onnx_logits(paths[precision], test.X, test.mask).argmax(1) == ref).mean() >= 0.95
    assert json.loads(read_temporal_metadata(paths["int8"]).to_json())["kind"] == "temporal"
