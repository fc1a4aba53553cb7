"""Encryption of recording files at rest: chunked AES-256-GCM with random access.

File format (all integers big-endian):

    header  = b"VVENC\\x00\\x01\\n" | chunk_size (u32) | key_id (8 bytes: SHA-256(key)[:8])
    chunk i = nonce (12 random bytes) | AES-GCM(plaintext chunk) with its 16-byte tag

Every chunk holds `chunk_size` plaintext bytes except the last, which holds 0..chunk_size and
is flagged final. Each chunk's associated data is the header, its index and the final flag,
so chunks cannot be altered, swapped, dropped or the file cut short without the read failing.
Fixed-size chunks make random access cheap: PyAV seeks in an encrypted file as in a plain one.

Files are encrypted once they are complete (the recorder writes plain, crash-safe files;
they are encrypted on finalize or recovery) and replaced atomically. Fingerprints (SHA-256)
always cover the plaintext, so they stay valid whether or not a file is encrypted.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"VVENC\x00\x01\n"
CHUNK_SIZE = 64 * 1024
_HEADER = struct.Struct(">8sI8s")
_NONCE = 12
_TAG = 16


class EncryptionError(Exception):
    """An encrypted file cannot be read: wrong or missing key, or altered content."""


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()[:8]


def is_encrypted(path: Path) -> bool:
    with path.open("rb") as file:
        return file.read(len(MAGIC)) == MAGIC


def _aad(header: bytes, index: int, final: bool) -> bytes:
    return header + struct.pack(">QB", index, final)


def encrypt_file(path: Path, key: bytes, chunk_size: int = CHUNK_SIZE) -> bool:
    """Encrypt `path` in place (write a new file, fsync, rename); False if it already was."""
    if is_encrypted(path):
        return False
    aead = AESGCM(key)
    header = _HEADER.pack(MAGIC, chunk_size, key_id(key))
    tmp = path.with_name(path.name + ".encrypting")
    with path.open("rb") as source, tmp.open("wb") as target:
        target.write(header)
        index = 0
        chunk = source.read(chunk_size)
        while True:
            following = source.read(chunk_size) if len(chunk) == chunk_size else b""
            final = not following and len(chunk) < chunk_size
            nonce = os.urandom(_NONCE)
            target.write(nonce + aead.encrypt(nonce, chunk, _aad(header, index, final)))
            if final:
                break
            index += 1
            chunk = following
        target.flush()
        os.fsync(target.fileno())
    os.replace(tmp, path)
    return True


class EncryptedReader(io.RawIOBase):
    """A read-only, seekable view of an encrypted file's plaintext (what PyAV reads from)."""

    def __init__(self, path: Path, key: bytes) -> None:
        super().__init__()
        self._path = path
        self._file: BinaryIO = path.open("rb")
        try:
            self._header = self._file.read(_HEADER.size)
            if len(self._header) < _HEADER.size:
                raise EncryptionError(f"{path}: truncated header")
            magic, self._chunk, stored_key_id = _HEADER.unpack(self._header)
            if magic != MAGIC or self._chunk <= 0:
                raise EncryptionError(f"{path}: not an encrypted recording")
            if stored_key_id != key_id(key):
                raise EncryptionError(f"{path}: encrypted with another key")
            self._aead = AESGCM(key)
            body = os.fstat(self._file.fileno()).st_size - _HEADER.size
            record = _NONCE + self._chunk + _TAG
            self._chunks = body // record + (1 if body % record else 0)
            last = body - (self._chunks - 1) * record - _NONCE - _TAG
            if self._chunks == 0 or last < 0:
                raise EncryptionError(f"{path}: truncated (altered)")
            self.size = (self._chunks - 1) * self._chunk + last
        except BaseException:
            self._file.close()
            raise
        self._position = 0
        self._cached: tuple[int, bytes] | None = None

    def _plain_chunk(self, index: int) -> bytes:
        if self._cached is not None and self._cached[0] == index:
            return self._cached[1]
        record = _NONCE + self._chunk + _TAG
        self._file.seek(_HEADER.size + index * record)
        data = self._file.read(record)
        final = index == self._chunks - 1
        try:
            plain = self._aead.decrypt(
                data[:_NONCE], data[_NONCE:], _aad(self._header, index, final)
            )
        except InvalidTag:
            raise EncryptionError(
                f"{self._path}: chunk {index} fails authentication (altered)"
            ) from None
        self._cached = (index, plain)
        return plain

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._position < self.size:
            index, within = divmod(self._position, self._chunk)
            plain = self._plain_chunk(index)
            part = plain[within : within + len(view) - done]
            if not part:
                break
            view[done : done + len(part)] = part
            done += len(part)
            self._position += len(part)
        return done

    def read_all_chunks(self) -> None:
        """Authenticate every chunk (used by fingerprinting); raises EncryptionError."""
        for index in range(self._chunks):
            self._plain_chunk(index)

    def close(self) -> None:
        if not self.closed:
            self._file.close()
        super().close()


def open_plain(path: Path, key: bytes | None) -> BinaryIO:
    """The plaintext of a recording file, encrypted or not."""
    if is_encrypted(path):
        if key is None:
            raise EncryptionError(f"{path} is encrypted and no recording key is set")
        return io.BufferedReader(EncryptedReader(path, key), buffer_size=CHUNK_SIZE)
    return path.open("rb")


def media_source(path: Path, key: bytes | None) -> str | BinaryIO:
    """What to give `av.open`: the path of a plain file, a decrypting reader otherwise."""
    if not is_encrypted(path):
        return str(path)
    return open_plain(path, key)


def plain_sha256(path: Path, key: bytes | None) -> str:
    """SHA-256 of a recording's plaintext (fingerprints cover plaintext, see module doc)."""
    digest = hashlib.sha256()
    with open_plain(path, key) as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
