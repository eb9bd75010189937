# Generates sjis.bin, the table the CSV export's Shift_JIS encoder uses
# (csv.rs): every BMP character that Windows-31J (CP932, the Shift_JIS
# Excel reads in Japan) writes as two bytes, as big-endian (u16 code point,
# u16 bytes) pairs sorted by code point. Run: python3 sjis_table.py
import struct
pairs = []
for cp in range(0x80, 0x10000):
    if 0xD800 <= cp <= 0xDFFF:
        continue
    try:
        b = chr(cp).encode('cp932')
    except UnicodeEncodeError:
        continue
    if len(b) == 2:
        pairs.append((cp, b[0] << 8 | b[1]))
    elif len(b) == 1 and cp >= 0xFF61:
        pairs.append((cp, b[0]))  # half-width katakana: one byte
with open('sjis.bin', 'wb') as f:
    for cp, v in pairs:
        f.write(struct.pack('>HH', cp, v))
print(len(pairs), 'characters')
