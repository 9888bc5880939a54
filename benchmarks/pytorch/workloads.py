"""PyTorch side of the StreamDL comparison: the reference workloads of benchmarks/WORKLOADS.md.

Run it on the same machine as the StreamDL runner, with Debian's python3-torch, libopenblas0-pthread
and dataset-fashion-mnist installed:

    OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=2 \\
        /usr/bin/python3 benchmarks/pytorch/workloads.py G1 L1 M1 I1 [--threads 2] [--epochs 3] \\
        [--max-iterations N] [--data /usr/share/datasets/fashion-mnist]

Use /usr/bin/python3 (Debian's torch is not visible to a pyenv python). One JSON line per workload
goes to stdout, progress goes to stderr.
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

WORKLOADS = ("G1", "L1", "M1", "I1")
SEED = 42  # set from --seed


def log(message):
    print(message, file=sys.stderr, flush=True)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    zeros, type_code, rank = struct.unpack(">HBB", raw[:4])
    if zeros != 0 or type_code != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file")
    shape = struct.unpack(f">{rank}I", raw[4:4 + 4 * rank])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(shape)


def load_split(data_dir, split):
    images = read_idx(f"{data_dir}/{split}-images-idx3-ubyte.gz").astype(np.float32) / 255.0
    labels = read_idx(f"{data_dir}/{split}-labels-idx1-ubyte.gz").astype(np.int64)
    return torch.from_numpy(images).unsqueeze(1).contiguous(), torch.from_numpy(labels)


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))


def mlp():
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 512), nn.ReLU(),
        nn.Linear(512, 256), nn.ReLU(),
        nn.Linear(256, 10))


def accuracy(model, images, labels):
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(images), 1000):
            logits = model(images[start:start + 1000])
            correct += (logits.argmax(1) == labels[start:start + 1000]).sum().item()
    model.train()
    return round(correct / len(images), 4)


def train(model, optimizer, train_set, batch_size, args, after_epoch=None):
    """Runs the epochs and returns the per-step (epoch, iteration, images, seconds) records.

    Only forward, backward and the optimizer step are timed; gathering the shuffled batch is not,
    as in the StreamDL trainer.
    """
    images, labels = train_set
    shuffler = torch.Generator().manual_seed(SEED)
    iterations = (len(images) + batch_size - 1) // batch_size
    if args.max_iterations:
        iterations = min(iterations, args.max_iterations)
    steps = []
    model.train()
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(len(images), generator=shuffler)
        for it in range(iterations):
            index = order[it * batch_size:(it + 1) * batch_size]
            x, y = images[index], labels[index]
            start = time.perf_counter()
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            steps.append((epoch, it, len(index), time.perf_counter() - start))
            if (it + 1) % 100 == 0:
                log(f"epoch {epoch}/{args.epochs} iteration {it + 1}/{iterations} loss {loss.item():.4f}")
        if after_epoch:
            after_epoch(epoch)
    return steps


def images_per_second(steps):
    seconds = sum(s[3] for s in steps)
    return round(sum(s[2] for s in steps) / seconds, 1) if seconds else 0.0


def run_g1(args, state):
    size, timed = 1024, 20
    torch.manual_seed(SEED)
    a = torch.rand(size, size) * 2 - 1
    b = torch.rand(size, size) * 2 - 1
    c = torch.empty(size, size)
    for _ in range(3):
        torch.mm(a, b, out=c)
    # The StreamDL runner reports the median of three rounds of 20, because one round on two
    # cores can be off by a quarter; do the same so the two figures are comparable.
    rounds = []
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(timed):
            torch.mm(a, b, out=c)
        rounds.append(timed * 2 * size ** 3 / (time.perf_counter() - start) / 1e9)
    log("G1 rounds (GFLOP/s): " + ", ".join(f"{r:.1f}" for r in rounds))
    return {"gflops": round(sorted(rounds)[1], 2), "gflops_rounds": [round(r, 2) for r in rounds]}


def run_l1(args, state):
    train_set, test_set = load_split(args.data, "train"), load_split(args.data, "t10k")
    torch.manual_seed(SEED)
    model = lenet5()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    test_acc = {}

    def evaluate(epoch):
        if not args.max_iterations:
            test_acc[epoch] = accuracy(model, *test_set)
            log(f"L1 epoch {epoch} test accuracy {test_acc[epoch]}")

    # Wall time covers the per-epoch test evaluation too, as StreamDL's validated fit does.
    start = time.perf_counter()
    steps = train(model, optimizer, train_set, 128, args, evaluate)
    wall = time.perf_counter() - start
    state["lenet5"] = model

    figures = {"train_img_s_epoch1_steady": images_per_second([s for s in steps if s[0] == 1 and s[1] >= 20])}
    later = [s for s in steps if s[0] > 1]
    if later:
        figures["train_img_s_epochs2_3"] = images_per_second(later)
    if test_acc:
        figures["test_acc_epoch1"] = test_acc[1]
        figures["test_acc_epoch3"] = test_acc[max(test_acc)]
    figures["wall_s_3_epochs_train"] = round(wall, 2)
    return figures


def run_m1(args, state):
    train_set, test_set = load_split(args.data, "train"), load_split(args.data, "t10k")
    torch.manual_seed(SEED)
    model = mlp()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    steps = train(model, optimizer, train_set, 256, args)
    figures = {"train_img_s": images_per_second(steps)}
    if not args.max_iterations:
        figures["test_acc_epoch3"] = accuracy(model, *test_set)
    return figures


def run_i1(args, state):
    trained = "lenet5" in state
    if trained:
        model = state["lenet5"]
    else:
        torch.manual_seed(SEED)
        model = lenet5()
    model.eval()
    generator = torch.Generator().manual_seed(SEED)
    one = torch.rand(1, 1, 28, 28, generator=generator)
    batch = torch.rand(256, 1, 28, 28, generator=generator)
    latencies = []
    with torch.no_grad():
        for _ in range(200):
            model(one)
        for _ in range(2000):
            start = time.perf_counter()
            model(one)
            latencies.append(time.perf_counter() - start)
        for _ in range(5):
            model(batch)
        start = time.perf_counter()
        for _ in range(50):
            model(batch)
        seconds = time.perf_counter() - start
    latencies.sort()
    return {"weights": "trained" if trained else "random",
            "b1_latency_us_p50": round(latencies[len(latencies) // 2] * 1e6, 1),
            "b1_latency_us_p99": round(latencies[int(len(latencies) * 0.99)] * 1e6, 1),
            "b256_img_s": round(50 * 256 / seconds, 1)}


RUNNERS = {"G1": run_g1, "L1": run_l1, "M1": run_m1, "I1": run_i1}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workloads", nargs="+", metavar="WORKLOAD", choices=WORKLOADS)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--max-iterations", type=int, default=0)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--seed", type=int, default=42,
                        help="the workloads fix 42; another seed repeats a training workload to see the spread")
    args = parser.parse_args()
    global SEED
    SEED = args.seed

    torch.set_num_threads(args.threads)
    log(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"mkldnn {'available' if torch.backends.mkldnn.is_available() else 'unavailable'}")
    state = {}
    for workload in args.workloads:
        log(f"running {workload}")
        figures = RUNNERS[workload](args, state)
        line = {"workload": workload, "system": "pytorch", "threads": args.threads, "engine": "local",
                "torch_version": torch.__version__}
        if SEED != 42:
            line["seed"] = SEED
        line.update(figures)
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
