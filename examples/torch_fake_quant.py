"""Quantization-aware training with GGUF's own arithmetic.

A linear layer's weights go through libquant.gguf.fake_quantize (the bytes a
GGUF file of that type would hold, decoded back) in every forward pass; the
gradient passes straight through to the float weights (the straight-through
estimator). The layer starts from a float teacher and is trained so that its
quantized weights reproduce the teacher's outputs; the output error before
(plain post-training quantization) and after training is printed as one JSON
line, with a check that the weights used in the forward pass are exactly what
the GGUF bytes decode to. Whether training helps depends on the type, the
learning rate and the data: this is a starting point, not a recipe.

    python examples/torch_fake_quant.py --type Q3_K --steps 300
"""
import argparse
import json

import torch

from libquant import gguf


class GgufFakeQuant(torch.autograd.Function):
    @staticmethod
    def forward(ctx, weight, qtype):
        q = gguf.fake_quantize(weight.detach().cpu().numpy(), qtype)
        return torch.from_numpy(q).to(weight.device, weight.dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad, None  # straight through


class QuantLinear(torch.nn.Linear):
    def __init__(self, teacher: torch.Tensor, qtype: str):
        super().__init__(teacher.shape[1], teacher.shape[0], bias=False)
        self.qtype = qtype
        with torch.no_grad():
            self.weight.copy_(teacher)

    def quantized_weight(self):
        return GgufFakeQuant.apply(self.weight, self.qtype)

    def forward(self, x):
        return torch.nn.functional.linear(x, self.quantized_weight())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--type", default="Q3_K", help="GGUF type to train for (rows of 256 values fit every type)")
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()

    torch.manual_seed(0)
    teacher = torch.randn(128, 512) / 16
    # Inputs with a few strong channels, as LLM activations have.
    x = torch.randn(2048, 512) * (1 + 4 * (torch.rand(512) > 0.95))
    target = x @ teacher.T

    layer = QuantLinear(teacher, args.type)
    with torch.no_grad():
        ptq_mse = torch.mean((layer(x) - target) ** 2).item()
    optimizer = torch.optim.Adam(layer.parameters(), lr=5e-6)
    for _ in range(args.steps):
        batch = torch.randint(0, x.shape[0], (256,))
        loss = torch.mean((layer(x[batch]) - target[batch]) ** 2)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        qat_mse = torch.mean((layer(x) - target) ** 2).item()
        stored = gguf.quantize(layer.weight.numpy(), args.type)  # what a GGUF file would store
        decoded = gguf.dequantize(stored, args.type, layer.weight.shape[1])
        exact = bool(torch.equal(layer.quantized_weight(), torch.from_numpy(decoded)))
        moved = (layer.weight - teacher).abs().max().item()
    print(json.dumps({"type": args.type, "ptq_mse": ptq_mse, "qat_mse": qat_mse, "bytes": len(stored),
                      "forward_equals_gguf": exact, "max_weight_change": moved}))


if __name__ == "__main__":
    main()
