"""Checks of a ParlAI checkpoint's weights, shared by the generator and the classifier converters.

Every size the model is built with is counted from the weights and compared with `model.opt`, and every
tensor is checked before it is written, so a wrong or hostile checkpoint is a message naming its parameter
or field, not a giant model, a crash in Hugging Face or a small file that turns into a huge one.
"""

from __future__ import annotations

import re
from typing import Any

import torch

from humaneval.input_errors import InputError
from humaneval.models.parlai_zoo import PARLAI_SPECIALS, Opt


def layer_count(state: dict[str, torch.Tensor], prefix: str, what: str) -> int:
    """How many layers `prefix.N.` the weights hold; they must be numbered 0..N-1.

    Counted from the weights, never taken from the opt: the opt's number only has to agree, so a hostile
    `n_layers` of ten million cannot make us build ten million layers.
    """
    pattern = re.compile(rf"{re.escape(prefix)}\.([0-9]{{1,6}})\.")
    indices = {int(match.group(1)) for key in state if (match := pattern.match(key))}
    if not indices:
        raise InputError(f"checkpoint has no {what} ({prefix}.0...)", field="model")
    if indices != set(range(len(indices))):
        raise InputError(f"{what} are not numbered 0..{len(indices) - 1} ({prefix}.N)", field="model")
    return len(indices)


def dim(state: dict[str, torch.Tensor], key: str, axis: int) -> int | None:
    """One dimension of a weight, if the weight is there with enough dimensions (else the shape check reports it)."""
    tensor = state.get(key)
    return int(tensor.shape[axis]) if tensor is not None and tensor.dim() > axis else None


def embedding_matrix(state: dict[str, torch.Tensor], key: str) -> torch.Tensor:
    """The word embeddings, which fix the vocabulary and model width every other check compares with."""
    tensor = state.get(key)
    if tensor is None:
        raise InputError(f"checkpoint has no '{key}' (not a ParlAI transformer of this kind?)", field="model")
    if tensor.dim() != 2 or tensor.shape[0] < len(PARLAI_SPECIALS) or tensor.shape[1] < 1:
        raise InputError(
            f"must be a vocabulary x width matrix with at least the {len(PARLAI_SPECIALS)} special tokens, "
            f"not of shape {_shape(tensor.shape)}",
            field=key,
        )
    return tensor


def heads(opt: Opt, width: int) -> int:
    """`n_heads`, which must split the model width evenly (attention cuts each vector into n_heads pieces)."""
    n_heads = opt.integer("n_heads", 2, minimum=1)
    if width % n_heads:
        raise opt.error("n_heads", f"{n_heads} does not divide the embedding size {width}")
    return n_heads


def expand_layers(shapes: dict[str, tuple[int, ...]], stacks: dict[str, int]) -> dict[str, tuple[int, ...]]:
    """The shapes of a model with `stacks[prefix]` layers per stack, from the same model built with one.

    Building a model, even on the meta device, costs ~2.5 ms and ~50 KB a layer, and a checkpoint of a few
    MB can name 10,000 layers by repeating one tensor under many names (25 s, 500 MB before any check
    could refuse it). Every layer of a stack has the same parameters, so building one is enough.
    """
    expanded: dict[str, tuple[int, ...]] = {}
    for name, shape in shapes.items():
        stack = next((prefix for prefix in stacks if name.startswith(f"{prefix}.0.")), None)
        if stack is None:
            expanded[name] = shape
            continue
        rest = name[len(stack) + len(".0.") :]
        expanded.update({f"{stack}.{i}.{rest}": shape for i in range(stacks[stack])})
    return expanded


def check_parameters(
    weights: dict[str, torch.Tensor], expected: dict[str, tuple[int, ...]], sources: dict[str, str] | None = None
) -> None:
    """Every parameter the model needs is there, nothing else, each a float tensor of the model's shape.

    A 3x3 matrix where the model has 128x64 would be written and only fail (or worse, broadcast) at load.
    Messages use the checkpoint's own names (`sources` maps converted names back to them).
    """
    sources = sources or {}
    missing = sorted(sources.get(name, name) for name in set(expected) - set(weights))
    if missing:
        raise InputError(f"checkpoint lacks parameters the layout needs: {', '.join(missing[:8])}", field="model")
    extra = sorted(sources.get(name, name) for name in set(weights) - set(expected))
    if extra:
        raise InputError(f"checkpoint has parameters the layout does not: {', '.join(extra[:8])}", field="model")
    for name, shape in expected.items():
        tensor = weights[name]
        if tuple(tensor.shape) != shape:
            raise InputError(f"has shape {_shape(tensor.shape)}, the model needs {_shape(shape)}", field=sources.get(name, name))
        if not tensor.is_floating_point():
            raise InputError(f"is a {tensor.dtype} tensor; weights must be floating point", field=sources.get(name, name))


def owned_tensors(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Each tensor as a contiguous tensor with its own memory, ready for safetensors.

    Refused first: tensors that together need more bytes than the storages they view hold. Each tensor
    fits its storage (checked at load), but many tensors can view one storage, and copying each of them
    would turn a small file into a huge one. Tensors that do not own their whole storage are copied; the
    check bounds those copies by the checkpoint's size.
    """
    storages: dict[int, int] = {}
    for tensor in weights.values():
        storage = tensor.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
    needed = sum(t.numel() * t.element_size() for t in weights.values())
    if needed > sum(storages.values()):
        raise InputError(
            f"the weights describe {needed:,} bytes but the checkpoint holds {sum(storages.values()):,} "
            "(several parameters are views of the same data)",
            field="model",
        )
    owned: dict[str, torch.Tensor] = {}
    used: set[int] = set()
    for name, tensor in weights.items():
        storage = tensor.untyped_storage()
        whole = tensor.is_contiguous() and tensor.storage_offset() == 0 and storage.nbytes() == tensor.numel() * tensor.element_size()
        if whole and storage.data_ptr() not in used:
            used.add(storage.data_ptr())
            owned[name] = tensor
        else:
            owned[name] = tensor.clone(memory_format=torch.contiguous_format)
    return owned


def _shape(shape: Any) -> str:
    return "x".join(str(n) for n in shape) or "scalar"
