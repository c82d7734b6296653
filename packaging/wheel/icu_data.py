#!/usr/bin/env python3
"""Builds a smaller ICU data object for the static ``rlwatch`` binary: the toolchain's ICU common data, less what
rlwatch can never reach.

Usage: ``icu_data.py --archive PATH/lib_FoundationICU.a --out DIR`` (``scripts/build-wheel`` calls it and links the
object it prints). ``--list`` prints every item with ``keep`` or the reason it is left out, and writes nothing.

Why: a static-stdlib build links Foundation, and Foundation links ICU (FoundationInternationalization, CoreFoundation)
because GRDB, Yams and our targets ``import Foundation``. ICU's data arrives as one 34 MB symbol, ``icudt<N>_dat``
(its own archive member, ``icu_packaged_data.cpp.o``), a third of the stripped binary. ICU looks items up in that
package by name at run time (``udata_open``), so a package with fewer items is still a valid package: an item that is
absent behaves as a missing locale or resource does in any ICU build made with ICU's own data filter (fallback to the
parent locale, then ``root``). An object that defines ``icudt<N>_dat`` on the link line keeps the linker from pulling
the archive's member, so the toolchain is not modified.

What is left out, and why rlwatch never reaches it (README "Install" lists the same):
- ``*.cnv``: ICU converters for legacy charsets (Shift-JIS, EBCDIC, GB18030, ...). rlwatch reads and writes UTF-8 only;
  Foundation converts UTF-8/16/32, ASCII, Latin-1, Windows-1252 and MacRoman itself, without ICU.
- Locale bundles (every tree: formats, zone/currency/unit/language/region names, collation, spell-out) for locales
  other than ``root``, ``en``, ``en_US`` and ``en_US_POSIX``. Every date or number rlwatch and its dependencies
  format goes through ``en_US_POSIX`` (our ``DateFormatter``s, GRDB's and Yams' formatters) or a fixed ISO 8601
  style, so only that locale's chain is read. What stays: every tree's ``root``/``en`` chain, its ``pool.res`` and
  ``res_index.res``, and all non-locale data (time zones ``zoneinfo64``/``metaZones``/``timezoneTypes``, likely
  subtags, plural rules, normalization, IDNA, the root collation and ``ucadata``, break rules, character names).
- ``brkitr`` dictionaries and LSTM models: word segmentation of Chinese, Japanese, Thai, Lao, Khmer and Burmese text,
  which rlwatch never segments (break rules for every script stay).
- ``translit``: ICU transliterators (``String.applyingTransform``), which rlwatch never calls.

The package format (ICU ``CmnD``, ``udatamem``/``ucmndata``): a data header, a table of contents (count, then for each
item the offsets of its name and of its data, relative to the table), the names (NUL-terminated, sorted: ICU
binary-searches them), padding (``0xAA``) to 16 bytes, then the items, each a multiple of 16 bytes. Debian's
``icupkg`` (ICU 72) refuses the toolchain's package (too many names for its limits), so this reads and writes the
format itself; writing a package back with every item is byte-identical to the toolchain's (the test checks that).
"""

from __future__ import annotations

import argparse
import re
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

#: The archive member that holds ICU's packaged data (swift-foundation-icu's build).
DATA_MEMBER = "icu_packaged_data.cpp.o"
#: Locales whose bundles are kept in every tree: the chain `en_US_POSIX` -> `en_US` -> `en` -> `root`.
KEPT_LOCALES = frozenset({"root", "en", "en_US", "en_US_POSIX"})
#: A locale bundle's name (`de`, `zh_Hant_TW`, `es_419`, `ca_ES_VALENCIA`); non-locale items (`pool`, `res_index`,
#: `supplementalData`, `zoneinfo64`, `likelySubtags`) do not match.
LOCALE_PATTERN = re.compile(r"[a-z]{2,3}(_[A-Z][a-z]{3})?(_([A-Z]{2}|[0-9]{3}))?(_[A-Z0-9]+)?|root")
ALIGNMENT = 16


class ICUDataError(Exception):
    pass


@dataclass
class CommonData:
    """An ICU common data package: its data header (copied as is) and its items, in table order."""

    header: bytes
    items: List[Tuple[str, bytes]]

    @staticmethod
    def parse(blob: bytes) -> "CommonData":
        if len(blob) < 24 or blob[2:4] != b"\xda\x27":
            raise ICUDataError("not an ICU data package (no 0xda27 magic at byte 2)")
        header_size = struct.unpack_from("<H", blob, 0)[0]
        # UDataInfo: size (2), reserved (2), isBigEndian, charsetFamily, sizeofUChar, reserved, dataFormat (4)...
        if blob[8] != 0 or blob[9] != 0:
            raise ICUDataError("only little-endian ASCII packages are handled (the toolchain's is one)")
        if blob[12:16] != b"CmnD":
            raise ICUDataError(f"data format {blob[12:16]!r}, expected b'CmnD' (a common data package)")
        count = struct.unpack_from("<I", blob, header_size)[0]
        table = header_size
        entries = [struct.unpack_from("<II", blob, table + 4 + 8 * i) for i in range(count)]
        items = []
        for index, (name_offset, data_offset) in enumerate(entries):
            name_end = blob.index(b"\0", table + name_offset)
            name = blob[table + name_offset:name_end].decode("ascii")
            end = entries[index + 1][1] if index + 1 < count else len(blob) - table
            if end < data_offset:
                raise ICUDataError(f"item {name}: data offsets out of order")
            items.append((name, blob[table + data_offset:table + end]))
        names = [name for name, _ in items]
        if names != sorted(names, key=lambda n: n.encode()):
            raise ICUDataError("item names are not sorted (ICU binary-searches them)")
        return CommonData(header=blob[:header_size], items=items)

    def serialize(self) -> bytes:
        table_size = 4 + 8 * len(self.items)
        names: List[bytes] = []
        name_offsets = []
        names_size = 0
        for name, _ in self.items:
            name_offsets.append(table_size + names_size)
            names.append(name.encode("ascii") + b"\0")
            names_size += len(names[-1])
        padding = (-(len(self.header) + table_size + names_size)) % ALIGNMENT
        data_start = table_size + names_size + padding
        table = [struct.pack("<I", len(self.items))]
        offset = data_start
        for index, ((name, item), name_offset) in enumerate(zip(self.items, name_offsets)):
            if len(item) % ALIGNMENT and index + 1 < len(self.items):
                raise ICUDataError(f"item {name} is {len(item)} bytes, not a multiple of {ALIGNMENT}")
            table.append(struct.pack("<II", name_offset, offset))
            offset += len(item)
        return b"".join([self.header, *table, *names, b"\xaa" * padding, *(item for _, item in self.items)])


def drop_reason(name: str) -> Optional[str]:
    """Why the item `name` (`icudt76l/coll/de.res`) is left out, or None when it is kept."""
    parts = name.split("/")[1:]
    if not parts:
        return None
    tree = parts[0] if len(parts) > 1 else ""
    stem, _, extension = parts[-1].rpartition(".")
    if extension == "cnv":
        return "legacy charset converter"
    if tree == "translit":
        return "transliterator"
    if tree == "brkitr" and (extension == "dict" or "model" in stem):
        return "word-segmentation dictionary"
    if extension == "res" and LOCALE_PATTERN.fullmatch(stem) and stem not in KEPT_LOCALES:
        return f"locale bundle ({tree or 'formats'})"
    return None


def filtered(package: CommonData) -> CommonData:
    return CommonData(header=package.header, items=[(n, d) for n, d in package.items if drop_reason(n) is None])


def run(command: List[str]) -> str:
    try:
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout
    except FileNotFoundError:
        raise ICUDataError(f"{command[0]} not found (apt-get install binutils)") from None
    except subprocess.CalledProcessError as error:
        raise ICUDataError(f"{' '.join(command)} failed: {error.stderr.strip()}") from None


def extract(archive: Path, work: Path) -> Tuple[str, bytes]:
    """The data symbol's name (`icudt76_dat`) and its bytes, from the archive's packaged-data member."""
    if not archive.is_file():
        raise ICUDataError(f"{archive}: no such file (the toolchain's static Foundation libraries)")
    run(["ar", "x", "--output", str(work), str(archive), DATA_MEMBER])
    member = work / DATA_MEMBER
    if not member.is_file():
        raise ICUDataError(f"{archive} has no member {DATA_MEMBER}")
    symbols = [line.split() for line in run(["nm", str(member)]).splitlines()]
    data_symbols = [fields[-1] for fields in symbols if len(fields) == 3 and re.fullmatch(r"icudt\d+_dat", fields[2])]
    if len(data_symbols) != 1:
        raise ICUDataError(f"{archive}({DATA_MEMBER}) defines {data_symbols or 'no icudt<N>_dat'}, expected one")
    raw = work / "icudata.raw"
    run(["objcopy", "-O", "binary", "--only-section=.rodata", str(member), str(raw)])
    return data_symbols[0], raw.read_bytes()


def assemble(symbol: str, package: bytes, out: Path) -> Path:
    """An object defining `rlwatch_<symbol>` as `package` in read-only data, with a non-executable stack note.

    The object's symbol is not `symbol` itself: the linker fetches an archive member as soon as a member it already
    fetched references a symbol the member defines, which happens before an object given later on the command line
    is read (SwiftPM puts `-Xlinker` inputs after the libraries). `--defsym=<symbol>=rlwatch_<symbol>` (which
    `scripts/build-wheel` passes) defines `symbol` before any archive is read, so the toolchain's member is never
    fetched; if it were, the link would fail on the duplicate symbol rather than keep the full data silently.
    """
    data = out / f"{symbol}.dat"
    data.write_bytes(package)
    source = out / f"{symbol}.s"
    source.write_text(
        f"""\t.section .rodata.rlwatch_{symbol},"a",@progbits
\t.globl rlwatch_{symbol}
\t.type rlwatch_{symbol}, @object
\t.balign {ALIGNMENT}
rlwatch_{symbol}:
\t.incbin "{data}"
\t.size rlwatch_{symbol}, {len(package)}
\t.section .note.GNU-stack,"",@progbits
"""
    )
    obj = out / f"{symbol}.o"
    run(["as", "--64", "-o", str(obj), str(source)])
    return obj


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive", type=Path, required=True, help="the toolchain's lib_FoundationICU.a")
    parser.add_argument("--out", type=Path, help="directory for the object (and its .dat and .s)")
    parser.add_argument("--list", action="store_true", help="print each item with keep/its drop reason")
    args = parser.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory() as work:
            symbol, blob = extract(args.archive, Path(work))
        package = CommonData.parse(blob)
        if package.serialize() != blob:
            raise ICUDataError("re-serializing the toolchain's package does not reproduce it: format not understood")
        smaller = filtered(package)
        if args.list:
            for name, item in package.items:
                print(f"{len(item):9d} {name} {drop_reason(name) or 'keep'}")
            return 0
        if args.out is None:
            parser.error("--out is needed unless --list is given")
        args.out.mkdir(parents=True, exist_ok=True)
        serialized = smaller.serialize()
        if CommonData.parse(serialized).items != smaller.items:
            raise ICUDataError("the filtered package does not read back as written")
        obj = assemble(symbol, serialized, args.out)
    except ICUDataError as error:
        print(f"icu_data.py: {error}", file=sys.stderr)
        return 1
    print(
        f"icu_data.py: {symbol}: {len(smaller.items)} of {len(package.items)} items, "
        f"{len(serialized) / 1e6:.1f} MB of {len(blob) / 1e6:.1f} MB",
        file=sys.stderr,
    )
    print(f"{obj} {symbol}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
