"""The PyTorch side of StreamDL's reference workloads (benchmarks/WORKLOADS.md).

Run it on the same machine and in the same session as the StreamDL runner, so both sets of figures
are comparable:

    OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=2 \
        /usr/bin/python3 benchmarks/pytorch/workloads.py G1 L1 M1 I1 [--threads 2] [--epochs 3]

It needs Debian's python3-torch, libopenblas0-pthread (without it Debian's torch uses a slow
reference BLAS) and dataset-fashion-mnist. One JSON line per workload goes to stdout, logs to stderr.
"""
import argparse
import gzip
import json
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, rank = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def load(data_dir, split):
    images = read_idx(f"{data_dir}/{split}-images-idx3-ubyte.gz").astype(np.float32) / 255.0
    labels = read_idx(f"{data_dir}/{split}-labels-idx1-ubyte.gz").astype(np.int64)
    return torch.from_numpy(images).unsqueeze(1), torch.from_numpy(labels)


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                         nn.Linear(256, 10))


def accuracy(model, images, labels):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(images), 1000):
            correct += (model(images[i:i + 1000]).argmax(1) == labels[i:i + 1000]).sum().item()
    model.train()
    return correct / len(images)


def train(model, optimizer, batch_size, epochs, max_iterations, train_set, test_set, on_epoch):
    """Trains and returns per-epoch (images, seconds) of training steps only, and the steady epoch-1 figures."""
    images, labels = train_set
    generator = torch.Generator().manual_seed(42)
    per_epoch = []
    steady = None
    for epoch in range(1, epochs + 1):
        order = torch.randperm(len(images), generator=generator)
        seen, seconds, steady_seen, steady_seconds = 0, 0.0, 0, 0.0
        iterations = (len(images) + batch_size - 1) // batch_size
        if max_iterations:
            iterations = min(iterations, max_iterations)
        for it in range(iterations):
            idx = order[it * batch_size:(it + 1) * batch_size]
            x, y = images[idx], labels[idx]
            start = time.perf_counter()
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            elapsed = time.perf_counter() - start
            seen += len(idx)
            seconds += elapsed
            if epoch == 1 and it >= 20:
                steady_seen += len(idx)
                steady_seconds += elapsed
            if it % 100 == 0:
                log(f"epoch {epoch} iteration {it}/{iterations} loss {loss.item():.4f}")
        per_epoch.append((seen, seconds))
        if epoch == 1:
            steady = steady_seen / steady_seconds if steady_seconds else 0.0
        on_epoch(epoch)
    return per_epoch, steady


def g1(args):
    a, b = torch.rand(1024, 1024), torch.rand(1024, 1024)
    for _ in range(3):
        torch.mm(a, b)
    start = time.perf_counter()
    for _ in range(20):
        torch.mm(a, b)
    seconds = time.perf_counter() - start
    return {"gflops": round(20 * 2 * 1024 ** 3 / seconds / 1e9, 2)}


def l1(args, state):
    train_set, test_set = load(args.data, "train"), load(args.data, "t10k")
    torch.manual_seed(42)
    model = LeNet5()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    figures = {}

    def on_epoch(epoch):
        if args.max_iterations:
            return
        if epoch in (1, args.epochs):
            figures[f"test_acc_epoch{epoch}"] = round(accuracy(model, *test_set), 4)
            log(f"L1 epoch {epoch} test accuracy {figures[f'test_acc_epoch{epoch}']}")

    wall = time.perf_counter()
    per_epoch, steady = train(model, optimizer, 128, args.epochs, args.max_iterations, train_set, test_set, on_epoch)
    wall = time.perf_counter() - wall
    later = per_epoch[1:]
    out = {"train_img_s_epoch1_steady": round(steady, 1)}
    if later:
        out["train_img_s_epochs2_3"] = round(sum(s for s, _ in later) / sum(t for _, t in later), 1)
    out.update(figures)
    out["wall_s_3_epochs_train"] = round(wall, 2)
    state["lenet"] = model
    return out


def m1(args):
    train_set, test_set = load(args.data, "train"), load(args.data, "t10k")
    torch.manual_seed(42)
    model = mlp()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    per_epoch, _ = train(model, optimizer, 256, args.epochs, args.max_iterations, train_set, test_set, lambda e: None)
    out = {"train_img_s": round(sum(s for s, _ in per_epoch) / sum(t for _, t in per_epoch), 1)}
    if not args.max_iterations:
        out["test_acc_epoch3"] = round(accuracy(model, *test_set), 4)
    return out


def i1(args, state):
    model = state.get("lenet") or LeNet5()
    model.eval()
    x1 = torch.rand(1, 1, 28, 28)
    x256 = torch.rand(256, 1, 28, 28)
    latencies = []
    with torch.no_grad():
        for _ in range(200):
            model(x1)
        for _ in range(2000):
            start = time.perf_counter()
            model(x1)
            latencies.append((time.perf_counter() - start) * 1e6)
        for _ in range(5):
            model(x256)
        start = time.perf_counter()
        for _ in range(50):
            model(x256)
        seconds = time.perf_counter() - start
    latencies.sort()
    return {"b1_latency_us_p50": round(latencies[len(latencies) // 2], 1),
            "b1_latency_us_p99": round(latencies[int(len(latencies) * 0.99)], 1),
            "b256_img_s": round(50 * 256 / seconds, 1),
            "weights": "trained" if "lenet" in state else "random"}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workloads", nargs="+", choices=["G1", "L1", "M1", "I1"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--max-iterations", type=int, default=0)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    state = {}
    for workload in args.workloads:
        if workload == "G1":
            figures = g1(args)
        elif workload == "L1":
            figures = l1(args, state)
        elif workload == "M1":
            figures = m1(args)
        else:
            figures = i1(args, state)
        line = {"workload": workload, "system": "pytorch", "threads": args.threads, "engine": "local",
                "torch_version": torch.__version__}
        line.update(figures)
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
