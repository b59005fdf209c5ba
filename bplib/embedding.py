"""Embeddings: a learned table of vectors, looked up by integer index (words, characters, ids)."""

import numpy as np

from bplib.layers import Layer

__all__ = ["Embedding"]


class Embedding(Layer):
    """A lookup table: row ``indices[i]`` of the weight matrix W for each integer index.

    Forward: out = W[indices] (a gather; the same as one_hot(indices) @ W).
    Backward: dW = zeros, then np.add.at(dW, indices, dout): a scatter-add, so that an index used
    k times in the batch receives the sum of its k gradients (``dW[indices] += dout`` keeps only
    one of them). There is no gradient with respect to the integer indices: backward returns None.
    Shapes: indices (N,) or any shape, integers in [0, num_embeddings); W (num_embeddings,
    embedding_dim) -> out (*indices.shape, embedding_dim). ``W`` starts as N(0, 1), like PyTorch's
    (Bengio et al. 2003, "A neural probabilistic language model", JMLR 3, learned such a table).
    """

    def __init__(self, num_embeddings, embedding_dim, rng=None, dtype=np.float64):
        super().__init__()
        for name, n in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if not isinstance(n, (int, np.integer)) or n < 1:
                raise ValueError(f"Embedding: {name} must be a positive integer, got {n!r}")
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        W = np.random.default_rng(rng).standard_normal((self.num_embeddings, self.embedding_dim))
        self.params = {"W": W.astype(dtype, copy=False)}
        self.grads = {"W": np.zeros_like(self.params["W"])}

    def forward(self, indices):
        indices = np.asarray(indices)
        if indices.dtype.kind not in "iu":
            raise TypeError(f"{self}: expected integer indices, got dtype {indices.dtype}. An "
                            "embedding looks rows up by number: pass e.g. np.array([3, 0, 3]).")
        if indices.size and (indices.min() < 0 or indices.max() >= self.num_embeddings):
            bad = indices[(indices < 0) | (indices >= self.num_embeddings)].flat[0]
            raise IndexError(f"{self}: index {bad} is out of range: the table has rows 0 to "
                             f"{self.num_embeddings - 1}")
        self._cache = indices
        return self.params["W"][indices]  # (*indices.shape, embedding_dim)

    def backward(self, dout):
        indices = self._cached()
        dout = self._check_dout(dout, indices.shape + (self.embedding_dim,))
        dW = self.grads["W"]
        dW[...] = 0
        np.add.at(dW, indices, dout)  # scatter-add: repeated indices accumulate
        return None

    def __repr__(self):
        return f"Embedding({self.num_embeddings}, {self.embedding_dim})"
