"""Which shoppers may have a conversation: a Bloom filter, so a visitor with none costs no read."""

from __future__ import annotations

from collections.abc import Iterable

_HASHES = 4
_BITS_PER_SHOPPER = 16  # with 4 hashes: about 0.24% of shoppers without one still read the store
_FIRST_BITS = 1 << 20  # 128 KiB


class _Layer:
    __slots__ = ("bits", "mask", "room")

    def __init__(self, size_bits: int) -> None:
        self.bits = bytearray(size_bits // 8)
        self.mask = size_bits - 1
        self.room = size_bits // _BITS_PER_SHOPPER

    def positions(self, key: int) -> Iterable[int]:
        step = (key >> 32) | 1
        mask = self.mask
        return ((key + i * step) & mask for i in range(_HASHES))

    def add(self, key: int) -> None:
        bits = self.bits
        for at in self.positions(key):
            bits[at >> 3] |= 1 << (at & 7)
        self.room -= 1

    def __contains__(self, key: int) -> bool:
        bits = self.bits
        return all(bits[at >> 3] & (1 << (at & 7)) for at in self.positions(key))


class ShopperFilter:
    """Shopper ids added here are always found; others are found rarely (a needless read).

    It grows by layers, each twice the last, so however many shoppers come, the share found
    wrongly stays small; nothing is ever removed (a shopper keeps their conversations).
    """

    def __init__(self, shoppers: Iterable[str] = ()) -> None:
        self._layers = [_Layer(_FIRST_BITS)]
        for shopper_id in shoppers:
            self.add(shopper_id)

    def add(self, shopper_id: str) -> None:
        key = hash(shopper_id) & 0xFFFFFFFFFFFFFFFF
        if any(key in layer for layer in self._layers):
            return
        last = self._layers[-1]
        if last.room <= 0:
            last = _Layer((last.mask + 1) * 2)
            self._layers.append(last)
        last.add(key)

    def __contains__(self, shopper_id: str) -> bool:
        key = hash(shopper_id) & 0xFFFFFFFFFFFFFFFF
        return any(key in layer for layer in self._layers)
