"""Stable short hashes, shaped like the ones Kubernetes and Argo Rollouts print.

Kubernetes names a ReplicaSet ``<workload>-<pod-template-hash>`` where the hash is an
FNV-32a of the pod template, written as decimal and then "safe encoded" into an
alphabet without vowels (so no words appear): ``6cbccd9f99``. Argo Rollouts hashes its
canary steps the same way (``status.currentStepHash``). We hash canonical JSON instead
of Go's struct dump, so the values differ from a real cluster's, but they have the same
shape and the same property: equal templates give equal hashes.
"""

from __future__ import annotations

import json
import random
from typing import Any

#: k8s.io/apimachinery/pkg/util/rand: consonants and digits that cannot spell words.
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193


def fnv32a(data: bytes) -> int:
    value = _FNV_OFFSET
    for byte in data:
        value ^= byte
        value = (value * _FNV_PRIME) & 0xFFFFFFFF
    return value


def safe_encode(text: str) -> str:
    """Map each character onto the safe alphabet (``rand.SafeEncodeString``)."""
    return "".join(SAFE_ALPHABET[ord(char) % len(SAFE_ALPHABET)] for char in text)


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def short_hash(value: Any) -> str:
    """``SafeEncodeString(fmt.Sprint(fnv32a(value)))`` over canonical JSON."""
    return safe_encode(str(fnv32a(canonical_json(value))))


def random_suffix(rng: random.Random, length: int = 5) -> str:
    """A pod name suffix like ``-6jfpt`` (``rand.String``)."""
    return "".join(rng.choice(SAFE_ALPHABET) for _ in range(length))
