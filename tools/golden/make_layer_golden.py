"""Golden values for StreamDL's layer and loss tests, computed with PyTorch.

Run from the repository root with Debian's python3-torch:

    /usr/bin/python3 tools/golden/make_layer_golden.py engine-dnn/src/test/resources/org/streamdl/dnn/golden

For every case it writes raw little-endian float32 (or int32) files, one per tensor: the input, the
module's parameters, its output, a fixed upstream gradient dy, and the gradients PyTorch computes
for the input and the parameters. manifest.txt lists each file with its shape, and the PyTorch
version and seed used. The files are committed; rerun only to add cases.
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 1234


def save(out_dir, manifest, name, tensor):
    t = tensor.detach().contiguous()
    dtype = "int32" if t.dtype in (torch.int32, torch.int64) else "float32"
    data = t.to(torch.int32) if dtype == "int32" else t.to(torch.float32)
    with open(os.path.join(out_dir, name + ".bin"), "wb") as f:
        f.write(data.numpy().astype("<i4" if dtype == "int32" else "<f4").tobytes())
    manifest.append(f"{name} {dtype} {','.join(str(d) for d in t.shape)}")


def module_case(out_dir, manifest, case, module, x, train=True):
    module.train(train)
    x = x.clone().requires_grad_(x.dtype.is_floating_point)
    y = module(x)
    dy = torch.randn_like(y)
    y.backward(dy)
    save(out_dir, manifest, f"{case}.x", x)
    for name, p in module.named_parameters():
        save(out_dir, manifest, f"{case}.param.{name}", p)
        save(out_dir, manifest, f"{case}.grad.{name}", p.grad)
    for name, b in module.named_buffers():
        if b.dtype.is_floating_point:
            save(out_dir, manifest, f"{case}.buffer.{name}", b)
    save(out_dir, manifest, f"{case}.y", y)
    save(out_dir, manifest, f"{case}.dy", dy)
    if x.grad is not None:
        save(out_dir, manifest, f"{case}.dx", x.grad)


def loss_case(out_dir, manifest, case, fn, x, target):
    x = x.clone().requires_grad_(True)
    loss = fn(x, target)
    loss.backward()
    save(out_dir, manifest, f"{case}.x", x)
    save(out_dir, manifest, f"{case}.target", target)
    save(out_dir, manifest, f"{case}.loss", loss.reshape(1))
    save(out_dir, manifest, f"{case}.dx", x.grad)


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    manifest = [f"# torch {torch.__version__}, seed {SEED}"]

    module_case(out_dir, manifest, "conv_grouped", nn.Conv2d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2),
                torch.randn(2, 4, 9, 8))
    module_case(out_dir, manifest, "conv_lenet1", nn.Conv2d(1, 6, 5, padding=2), torch.rand(3, 1, 28, 28))
    module_case(out_dir, manifest, "maxpool", nn.MaxPool2d(3, stride=2, padding=1), torch.randn(2, 3, 9, 9))
    module_case(out_dir, manifest, "avgpool", nn.AvgPool2d(3, stride=2, padding=1), torch.randn(2, 3, 9, 9))
    module_case(out_dir, manifest, "linear", nn.Linear(7, 5), torch.randn(4, 7))
    module_case(out_dir, manifest, "batchnorm2d", nn.BatchNorm2d(3), torch.randn(4, 3, 5, 5))
    bn_eval = nn.BatchNorm2d(3)
    with torch.no_grad():
        bn_eval.running_mean.copy_(torch.randn(3))
        bn_eval.running_var.copy_(torch.rand(3) + 0.5)
        bn_eval.weight.copy_(torch.randn(3))
        bn_eval.bias.copy_(torch.randn(3))
    module_case(out_dir, manifest, "batchnorm2d_eval", bn_eval, torch.randn(4, 3, 5, 5), train=False)
    module_case(out_dir, manifest, "layernorm", nn.LayerNorm(6), torch.randn(3, 6))
    module_case(out_dir, manifest, "gelu", nn.GELU(), torch.randn(4, 7) * 2)
    module_case(out_dir, manifest, "leaky_relu", nn.LeakyReLU(0.1), torch.randn(4, 7))
    module_case(out_dir, manifest, "sigmoid", nn.Sigmoid(), torch.randn(4, 7) * 3)
    module_case(out_dir, manifest, "tanh", nn.Tanh(), torch.randn(4, 7) * 2)
    module_case(out_dir, manifest, "softmax", nn.Softmax(dim=-1), torch.randn(4, 7) * 3)
    module_case(out_dir, manifest, "log_softmax", nn.LogSoftmax(dim=-1), torch.randn(4, 7) * 3)
    module_case(out_dir, manifest, "global_avg_pool", nn.AdaptiveAvgPool2d(1), torch.randn(2, 3, 4, 5))
    embedding = nn.Embedding(10, 4)
    ids = torch.tensor([[1, 7, 7], [0, 9, 3]])
    y = embedding(ids)
    dy = torch.randn_like(y)
    y.backward(dy)
    save(out_dir, manifest, "embedding.x", ids)
    save(out_dir, manifest, "embedding.param.weight", embedding.weight)
    save(out_dir, manifest, "embedding.y", y)
    save(out_dir, manifest, "embedding.dy", dy)
    save(out_dir, manifest, "embedding.grad.weight", embedding.weight.grad)

    logits = torch.randn(5, 4) * 2
    labels = torch.tensor([0, 3, 1, 1, 2])
    loss_case(out_dir, manifest, "cross_entropy", lambda x, t: F.cross_entropy(x, t), logits, labels)
    loss_case(out_dir, manifest, "cross_entropy_smoothed", lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1),
              logits, labels)
    loss_case(out_dir, manifest, "nll", lambda x, t: F.nll_loss(x, t), F.log_softmax(logits, 1), labels)
    pred = torch.randn(3, 4)
    target = torch.randn(3, 4)
    loss_case(out_dir, manifest, "mse", F.mse_loss, pred, target)
    loss_case(out_dir, manifest, "l1", F.l1_loss, pred, target)
    loss_case(out_dir, manifest, "smooth_l1", F.smooth_l1_loss, pred, target)
    loss_case(out_dir, manifest, "bce_with_logits", F.binary_cross_entropy_with_logits, pred * 3, torch.rand(3, 4))
    # appended last so the random draws of the cases above, and their files, stay as they were
    module_case(out_dir, manifest, "conv_transpose",
                nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2), torch.randn(2, 4, 5, 4))

    with open(os.path.join(out_dir, "manifest.txt"), "w") as f:
        f.write("\n".join(manifest) + "\n")


if __name__ == "__main__":
    main()
