"""Read ParlAI `model` files without ParlAI, apex or arbitrary code execution.

Fresh ParlAI saves load with `torch.load(weights_only=True)`, but older zoo files pickle ParlAI and apex
classes (optimizer wrappers, fp16 scalers) next to the weights. Installing those packages to read a file
would be heavy, and a full unpickle of a downloaded file can run arbitrary code. So we unpickle with an
allow-list: tensor and storage rebuild functions and plain containers are real; every other global becomes
an inert stub that swallows its arguments and state. Only the `model` state dict is kept from the result.
"""

from __future__ import annotations

import logging
import pickle
from pathlib import Path
from typing import Any

import torch

from humaneval.input_errors import InputError

log = logging.getLogger(__name__)

# The only globals a checkpoint may name, as exact (module, name) pairs: the functions torch's pickles call
# to rebuild tensors and parameters, and plain containers and value types. Nothing is allowed by module or
# prefix: modules such as `torch._utils` and `torch.serialization` also hold functions that resolve any
# dotted name (`_import_dotted_name`) or import `os`, and protocol-4 pickles may name attributes of
# attributes ("os.system" inside `torch.serialization`), so a prefix rule hands out code execution.
_REBUILD_FUNCTIONS = {
    ("torch._utils", "_rebuild_tensor"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_parameter"),
}
_VALUE_TYPES = {
    ("collections", "OrderedDict"),
    ("collections", "defaultdict"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "slice"),
    ("builtins", "complex"),
    ("torch", "Size"),
    ("torch", "device"),
}


def _torch_value_globals() -> set[tuple[str, str]]:
    """Every dtype (`torch.float16`) and legacy storage class (`torch.HalfStorage`) by its exact name.

    Old (pre-1.6, non-zip) checkpoints name them as globals. Both are data: a dtype is not callable, and a
    storage class only allocates memory.
    """
    names = set()
    for name in dir(torch):
        value = getattr(torch, name, None)
        if isinstance(value, torch.dtype) or (
            isinstance(value, type) and name.endswith("Storage") and issubclass(value, torch.storage.TypedStorage)
        ):
            names.add(("torch", name))
    return names


_ALLOWED_GLOBALS = frozenset(_REBUILD_FUNCTIONS | _VALUE_TYPES | _torch_value_globals())


class StubbedObject:
    """Stands in for any class or function we refuse to import; keeps nothing."""

    stub_for = "?"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass

    def __call__(self, *args: Any, **kwargs: Any) -> "StubbedObject":
        return self

    def __repr__(self) -> str:
        return f"<stub for {self.stub_for}>"


class _RestrictedUnpickler(pickle.Unpickler):
    stubbed: set[str] = set()

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        qualified = f"{module}.{name}"
        type(self).stubbed.add(qualified)
        return type(f"Stub_{name}", (StubbedObject,), {"stub_for": qualified})


class _RestrictedPickleModule:
    """What `torch.load(pickle_module=...)` needs: an `Unpickler` and `load`."""

    Unpickler = _RestrictedUnpickler
    __name__ = "humaneval_restricted_pickle"

    @staticmethod
    def load(file: Any, **kwargs: Any) -> Any:
        return _RestrictedUnpickler(file, **kwargs).load()


def load_parlai_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The `model` state dict of a ParlAI checkpoint file, whatever else was pickled around it."""
    path = Path(path)
    if not path.is_file():
        raise InputError("ParlAI model file not found", path=path)
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any refusal of the safe loader sends us to the restricted one
        log.info("weights_only load refused (%s); using the restricted unpickler", type(err).__name__)
        _RestrictedUnpickler.stubbed = set()
        try:
            blob = torch.load(path, map_location="cpu", weights_only=False, pickle_module=_RestrictedPickleModule)
        except Exception as err2:  # noqa: BLE001
            raise InputError(f"cannot read this checkpoint ({type(err2).__name__}: {err2})", path=path) from None
        if _RestrictedUnpickler.stubbed:
            log.info("stubbed pickled classes: %s", ", ".join(sorted(_RestrictedUnpickler.stubbed)))
    # `dict.items`/`dict.values`, not the methods: a pickled OrderedDict can carry instance attributes
    # (BUILD), and an attribute named `items` would shadow the method.
    if isinstance(blob, dict) and isinstance(dict.get(blob, "model"), dict):
        state = dict.get(blob, "model")
    elif isinstance(blob, dict) and blob and all(isinstance(v, torch.Tensor) for v in dict.values(blob)):
        state = blob  # a bare state dict
    else:
        raise InputError("no 'model' state dict in this checkpoint", path=path, field="model")
    tensors: dict[str, torch.Tensor] = {}
    for key, value in dict.items(state):
        if not isinstance(key, str):
            # the type only: the repr of a hostile key (a 10,000-digit integer) can itself fail or be huge
            raise InputError(f"parameter names must be strings; one is of type {type(key).__name__}", path=path, field="model")
        if isinstance(value, torch.Tensor):
            check_tensor_data(value, path=path, name=key)
            tensors[key] = value
    if not tensors:
        raise InputError("the 'model' entry holds no tensors", path=path, field="model")
    return tensors


def check_tensor_data(tensor: torch.Tensor, *, path: Path, name: str) -> None:
    """Refuse a tensor that describes more data than the file holds for it.

    A pickled tensor is a view (size, stride, offset) on a storage; a zero-stride view of 4 bytes can
    claim to be 512 MiB, and copying it (`contiguous`, saving) would write all of that from a 1 MB file.
    Legitimately tied weights share one storage, but each of them fits in it, so comparing the storage's
    size with the bytes the tensor needs catches exactly the expanded and overlapping views.
    """
    if tensor.layout != torch.strided or tensor.device.type != "cpu":
        raise InputError(f"is a {tensor.layout} tensor on {tensor.device}; only dense weights are supported", path=path, field=name)
    needed = tensor.numel() * tensor.element_size()
    held = tensor.untyped_storage().nbytes()
    if needed > held:
        raise InputError(
            f"describes {needed:,} bytes of data over a storage of {held:,} bytes (an expanded or overlapping view); "
            "not a saved weight",
            path=path,
            field=name,
        )
