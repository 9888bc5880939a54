"""Golden data for ONNX ConvTranspose import: a small PyTorch ConvTranspose2d + ReLU exported to ONNX
(opset 13), its input and its output, as little-endian float32 .bin files.

Usage: python3 make_onnx_convtranspose.py OUT_DIR   (Debian's python3-torch; records torch version and seed)
"""
import os
import sys

import torch
from torch import nn

SEED = 4321


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    model = nn.Sequential(nn.ConvTranspose2d(2, 4, 3, stride=2, padding=1, output_padding=1, groups=2), nn.ReLU())
    model.eval()
    x = torch.randn(2, 2, 5, 4)
    with torch.no_grad():
        y = model(x)
    torch.onnx.export(model, x, os.path.join(out_dir, "conv_transpose.onnx"), opset_version=13,
                      input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "n"}, "y": {0: "n"}})
    x.numpy().astype("<f4").tofile(os.path.join(out_dir, "conv_transpose.x.bin"))
    y.numpy().astype("<f4").tofile(os.path.join(out_dir, "conv_transpose.y.bin"))
    with open(os.path.join(out_dir, "conv_transpose.txt"), "w") as f:
        f.write(f"# torch {torch.__version__}, seed {SEED}\nx float32 2,2,5,4\ny float32 {','.join(map(str, y.shape))}\n")


if __name__ == "__main__":
    main()
