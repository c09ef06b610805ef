/// The pixel size a JPEG or PNG file declares in its header, read without decoding, so that a
/// small upload declaring a huge image (a decompression bomb) is refused before memory is spent.
public enum ImageHeader {
    /// `(width, height)` from a PNG's IHDR chunk or a JPEG's start-of-frame segment, or `nil` when
    /// the bytes are neither or the header is cut short (the decoder then reports the error).
    public static func dimensions(_ bytes: [UInt8]) -> (width: Int, height: Int)? {
        func u16(_ i: Int) -> Int { Int(bytes[i]) << 8 | Int(bytes[i + 1]) }
        func u32(_ i: Int) -> Int { u16(i) << 16 | u16(i + 2) }
        if bytes.count >= 24, bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]),
           bytes[12..<16].elementsEqual(Array("IHDR".utf8)) {
            return (u32(16), u32(20))
        }
        guard bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return nil }
        var i = 2
        while i + 4 <= bytes.count {
            guard bytes[i] == 0xFF else { return nil }
            let marker = bytes[i + 1]
            if marker == 0xFF { i += 1; continue }  // fill byte
            if marker == 0x01 || (0xD0...0xD7).contains(marker) { i += 2; continue }  // no length
            let length = u16(i + 2)
            // SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC): precision, height, width.
            if (0xC0...0xCF).contains(marker), ![0xC4, 0xC8, 0xCC].contains(marker) {
                guard i + 9 <= bytes.count else { return nil }
                return (u16(i + 7), u16(i + 5))
            }
            if marker == 0xDA || length < 2 { return nil }  // scan data before any frame header
            i += 2 + length
        }
        return nil
    }
}
