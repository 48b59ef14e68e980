//! Huffman tables for lossless coding: code generation (T.81 C.2), decoder tables (F.2.2.3)
//! with a lookahead table for codes up to [`LOOKUP_BITS`] long, and optimal table
//! construction for the encoder (K.2, with the code-length limit of K.3).

/// Codes up to this many bits are resolved with one table lookup.
pub(crate) const LOOKUP_BITS: u32 = 11;

/// Two consecutive differences whose codes and additional bits fit in this many bits
/// together are resolved with one lookup in the pair table.
pub(crate) const PAIR_BITS: u32 = 12;

/// The triple table is built when, over PAIR_BITS-bit inputs (each as likely as the code's
/// own model makes it), it would resolve at least this many times the differences the pair
/// table does, in percent: it is twice the size, which costs lookups their L1 hits.
const TRIPLE_GAIN: u32 = 115;

/// Largest difference category for lossless coding (Table H.2: SSSS 0-16).
const MAX_SSSS: u8 = 16;

/// A decoding table.
#[derive(Clone)]
pub(crate) struct HuffTable {
    /// Indexed by the next LOOKUP_BITS bits. When the code and its additional bits both fit:
    /// `(difference as u16) << 16 | bits consumed` (F.2.2.1 EXTEND already applied). When
    /// only the code fits: `SSSS << 16 | code length << 8`. 0 when the code is longer (or
    /// invalid).
    fast: Box<[u32; 1 << LOOKUP_BITS]>,
    /// Indexed by the next PAIR_BITS bits: up to two differences resolved at once (see
    /// [`Self::pairs`]).
    pair: Box<[u32; 1 << PAIR_BITS]>,
    /// Up to three differences per lookup, built only for tables whose codes are short
    /// enough that it resolves markedly more per lookup than the pair table (see
    /// [`Self::triple`]).
    triple: Option<Box<[u64; 1 << PAIR_BITS]>>,
    /// F.2.2.3: largest code of each length (-1 when none), smallest code, value index.
    maxcode: [i32; 17],
    mincode: [i32; 17],
    valptr: [i32; 17],
    values: [u8; 256],
}

impl std::fmt::Debug for HuffTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HuffTable").finish_non_exhaustive()
    }
}

/// C.2 (Figures C.1 and C.2): the size and code of each value in HUFFVAL order.
/// `None` when the lengths overflow the code space.
pub(crate) fn generate_codes(bits: &[u8; 16]) -> Option<Vec<(u8, u16)>> {
    let mut out = Vec::new();
    let mut code: u32 = 0;
    for (l, &n) in bits.iter().enumerate() {
        let len = l as u32 + 1;
        for _ in 0..n {
            if code >= (1 << len) {
                return None;
            }
            out.push((len as u8, code as u16));
            code += 1;
        }
        code <<= 1;
    }
    Some(out)
}

impl HuffTable {
    /// Build from BITS (counts of codes of length 1-16) and HUFFVAL.
    pub fn new(bits: &[u8; 16], values: &[u8]) -> Option<Self> {
        let codes = generate_codes(bits)?;
        if codes.len() != values.len() {
            return None;
        }
        let mut t = HuffTable {
            fast: Box::new([0u32; 1 << LOOKUP_BITS]),
            pair: Box::new([0u32; 1 << PAIR_BITS]),
            triple: None,
            maxcode: [-1; 17],
            mincode: [0; 17],
            valptr: [0; 17],
            values: [0; 256],
        };
        t.values[..values.len()].copy_from_slice(values);
        // F.2.2.3 (Figure F.15): decoder tables.
        let mut k = 0usize;
        for l in 1..=16usize {
            let n = usize::from(bits[l - 1]);
            if n > 0 {
                t.valptr[l] = k as i32;
                t.mincode[l] = i32::from(codes[k].1);
                k += n;
                t.maxcode[l] = i32::from(codes[k - 1].1);
            }
        }
        for (&(len, code), &v) in codes.iter().zip(values) {
            let len = u32::from(len);
            if len > LOOKUP_BITS || v > MAX_SSSS {
                continue;
            }
            let shift = LOOKUP_BITS - len;
            let first = usize::from(code) << shift;
            let ssss = u32::from(v);
            let slots = &mut t.fast[first..first + (1 << shift)];
            if ssss < 16 && len + ssss <= LOOKUP_BITS {
                // The additional bits follow the code within the lookahead (H.1.2.2).
                for (k, slot) in slots.iter_mut().enumerate() {
                    let extra = (k as u32 >> (shift - ssss)) & ((1u32 << ssss) - 1);
                    let diff = extend(extra, ssss);
                    *slot = (u32::from(diff as u16) << 16) | (len + ssss);
                }
            } else {
                slots.fill((ssss << 16) | (len << 8));
            }
        }
        t.fill_pairs();
        if t.triples_pay() {
            t.fill_triples();
        }
        Some(t)
    }

    /// The pair table from the lookahead table: the first difference whole within the
    /// PAIR_BITS, then the second if it also fits in the bits left.
    fn fill_pairs(&mut self) {
        const MASK: usize = (1 << PAIR_BITS) - 1;
        const SHIFT: u32 = PAIR_BITS - LOOKUP_BITS;
        for (p, slot) in self.pair.iter_mut().enumerate() {
            let e1 = self.fast[p >> SHIFT];
            let used1 = e1 & 0xFF;
            if used1 == 0 {
                continue; // longer code, or SSSS 16: the single-difference path
            }
            let d1 = (e1 >> 16) & 0x7FF;
            let e2 = self.fast[((p << used1) & MASK) >> SHIFT];
            let used2 = e2 & 0xFF;
            *slot = if used2 != 0 && used1 + used2 <= PAIR_BITS {
                (((e2 >> 16) & 0x7FF) << 19) | (d1 << 8) | (2 << 6) | (used1 + used2)
            } else {
                (d1 << 8) | (1 << 6) | used1
            };
        }
    }

    /// Up to `max` differences from the PAIR_BITS-bit input `p`: (bits consumed, count,
    /// the differences modulo 2^16 packed from bit 16 up).
    fn resolve(&self, p: usize, max: u64) -> (u32, u64, u64) {
        const MASK: usize = (1 << PAIR_BITS) - 1;
        const SHIFT: u32 = PAIR_BITS - LOOKUP_BITS;
        let (mut used, mut count, mut diffs) = (0u32, 0u64, 0u64);
        while count < max {
            let e = self.fast[((p << used) & MASK) >> SHIFT];
            let u = e & 0xFF;
            if u == 0 || used + u > PAIR_BITS {
                break;
            }
            used += u;
            diffs |= u64::from(e >> 16) << (16 + 16 * count);
            count += 1;
        }
        (used, count, diffs)
    }

    /// Whether the triple table would resolve [`TRIPLE_GAIN`] percent of the differences
    /// per lookup of the pair table (estimated on every 16th input: this runs per frame).
    fn triples_pay(&self) -> bool {
        let (mut two, mut three) = (0u32, 0u32);
        for p in (0..1usize << PAIR_BITS).step_by(16) {
            two += (self.pair[p] >> 6) & 3;
            three += self.resolve(p, 3).1 as u32;
        }
        two > 0 && 100 * three >= TRIPLE_GAIN * two
    }

    fn fill_triples(&mut self) {
        let mut table = Box::new([0u64; 1 << PAIR_BITS]);
        for (p, slot) in table.iter_mut().enumerate() {
            let (used, count, diffs) = self.resolve(p, 3);
            *slot = diffs | (count << 8) | u64::from(used);
        }
        self.triple = Some(table);
    }

    /// The triple table if built: entry `third << 48 | second << 32 | first << 16 | count
    /// << 8 | bits consumed`, the differences modulo 2^16 (each field whole: a lookup
    /// needs no masking); count 0: use [`Self::fast`].
    pub fn triple(&self) -> Option<&[u64; 1 << PAIR_BITS]> {
        self.triple.as_deref()
    }

    /// The pair table, indexed by the next PAIR_BITS bits: entries `second << 19 | first
    /// << 8 | count << 6 | bits consumed`, the differences as 11-bit two's complement (a
    /// difference resolved within the lookahead has SSSS 10 at most). Count 0: use
    /// [`Self::fast`]. The bits consumed are the low bits, so that a shift by the entry
    /// needs no extraction.
    pub fn pairs(&self) -> &[u32; 1 << PAIR_BITS] {
        &self.pair
    }

    /// Lookahead entry for the next LOOKUP_BITS bits (see the `fast` field; 0: use
    /// [`Self::decode_slow`]).
    #[inline(always)]
    pub fn fast(&self, peek: usize) -> u32 {
        self.fast[peek & ((1 << LOOKUP_BITS) - 1)]
    }

    /// F.2.2.3 (Figure F.16) for codes longer than the lookahead: `top16` holds the next 16
    /// bits. Returns (code length, SSSS), or `None` for an invalid code or SSSS above 16.
    #[cold]
    pub fn decode_slow(&self, top16: u32) -> Option<(u32, u32)> {
        for l in (LOOKUP_BITS + 1)..=16 {
            let code = (top16 >> (16 - l)) as i32;
            let li = l as usize;
            if code <= self.maxcode[li] {
                let idx = self.valptr[li] + code - self.mincode[li];
                let v = *self.values.get(usize::try_from(idx).ok()?)?;
                return (v <= MAX_SSSS).then_some((l, u32::from(v)));
            }
        }
        None
    }
}

/// F.2.2.1 EXTEND: the difference that `ssss` (below 16) additional bits `v` stand for.
#[inline(always)]
pub(crate) fn extend(v: u32, ssss: u32) -> i32 {
    let half = (1u32 << ssss) >> 1;
    v as i32 - if v < half { (1i32 << ssss) - 1 } else { 0 }
}

/// Differences of magnitude up to this (SSSS <= 9) are coded with one lookup in
/// [`EncTable::near`].
pub(crate) const NEAR: i32 = 511;

/// An encoding table: code and length per SSSS value.
#[derive(Debug, Clone)]
pub(crate) struct EncTable {
    pub code: [u16; 17],
    pub len: [u8; 17],
    pub bits: [u8; 16],
    pub values: Vec<u8>,
    /// For a difference d with |d| <= NEAR, at `d + NEAR`: its code followed by its
    /// additional bits (H.1.2.2, F.1.2.1), `bits << 5 | length` (length <= 16 + 9).
    pub near: Box<[u32]>,
}

/// Optimal table for the SSSS frequencies `freq` (K.2, Figures K.1-K.4).
pub(crate) fn optimal_table(freq: &[u32; 17]) -> EncTable {
    // Symbol 17 is the reserved one-count entry that keeps the all-ones code unused (K.2).
    const N: usize = 18;
    let mut f = [0u64; N];
    for (d, &s) in f.iter_mut().zip(freq.iter()) {
        *d = u64::from(s);
    }
    f[17] = 1;
    let mut codesize = [0usize; N];
    let mut others = [usize::MAX; N];
    loop {
        // The two least frequent trees; ties go to the larger symbol (Figure K.1).
        let mut v1 = usize::MAX;
        let mut v2 = usize::MAX;
        for i in 0..N {
            if f[i] == 0 {
                continue;
            }
            if v1 == usize::MAX || f[i] <= f[v1] {
                v2 = v1;
                v1 = i;
            } else if v2 == usize::MAX || f[i] <= f[v2] {
                v2 = i;
            }
        }
        if v2 == usize::MAX {
            break;
        }
        f[v1] += f[v2];
        f[v2] = 0;
        let mut i = v1;
        loop {
            codesize[i] += 1;
            if others[i] == usize::MAX {
                break;
            }
            i = others[i];
        }
        others[i] = v2;
        let mut i = v2;
        loop {
            codesize[i] += 1;
            if others[i] == usize::MAX {
                break;
            }
            i = others[i];
        }
    }
    // Figure K.2 then K.3: count code sizes and limit them to 16 bits.
    let mut count = [0u32; 40];
    for &c in &codesize {
        if c > 0 {
            count[c] += 1;
        }
    }
    let mut i = 39;
    while i > 16 {
        while count[i] > 0 {
            let mut j = i - 2;
            while count[j] == 0 {
                j -= 1;
            }
            count[i] -= 2;
            count[i - 1] += 1;
            count[j + 1] += 2;
            count[j] -= 1;
        }
        i -= 1;
    }
    // Drop the reserved code from the longest length.
    let mut i = 16;
    while i > 0 && count[i] == 0 {
        i -= 1;
    }
    count[i] -= 1;
    let mut bits = [0u8; 16];
    for l in 1..=16 {
        bits[l - 1] = count[l] as u8;
    }
    // Figure K.4: values in order of code size, then value.
    let mut order: Vec<usize> = (0..17).filter(|&s| codesize[s] > 0).collect();
    order.sort_by_key(|&s| (codesize[s], s));
    let values: Vec<u8> = order.iter().map(|&s| s as u8).collect();
    from_bits(bits, values)
}

/// Encoding table from BITS and HUFFVAL (C.2, C.3).
pub(crate) fn from_bits(bits: [u8; 16], values: Vec<u8>) -> EncTable {
    let mut t = EncTable {
        code: [0; 17],
        len: [0; 17],
        bits,
        values,
        near: vec![0u32; 2 * NEAR as usize + 1].into_boxed_slice(),
    };
    let codes = generate_codes(&bits).unwrap_or_default();
    for (&(len, code), &v) in codes.iter().zip(&t.values) {
        t.code[usize::from(v)] = code;
        t.len[usize::from(v)] = len;
    }
    for (i, slot) in t.near.iter_mut().enumerate() {
        let d = i as i32 - NEAR;
        let s = 32 - d.unsigned_abs().leading_zeros();
        let len = u32::from(t.len[s as usize]);
        if len == 0 {
            continue; // category absent from the data the table was built for
        }
        let extra = ((if d < 0 { d - 1 } else { d }) as u32) & ((1u32 << s) - 1);
        *slot = (((u32::from(t.code[s as usize]) << s) | extra) << 5) | (len + s);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optimal_table_is_prefix_free_and_limited() {
        // Skewed frequencies that would need codes longer than 16 bits without K.3.
        let mut freq = [0u32; 17];
        for (i, f) in freq.iter_mut().enumerate() {
            *f = 1 << (i.min(30));
        }
        freq[0] = 1;
        let t = optimal_table(&freq);
        assert!(t.len.iter().all(|&l| (1..=16).contains(&l)));
        assert_eq!(t.values.len(), 17);
        let codes = generate_codes(&t.bits).unwrap();
        // No all-ones code.
        for &(l, c) in &codes {
            assert_ne!(u32::from(c), (1u32 << l) - 1);
        }
        let dec = HuffTable::new(&t.bits, &t.values).unwrap();
        for s in 0..17u32 {
            let (l, c) = (u32::from(t.len[s as usize]), u32::from(t.code[s as usize]));
            let top16 = c << (16 - l);
            let got = if l <= LOOKUP_BITS {
                let e = dec.fast((top16 >> (16 - LOOKUP_BITS)) as usize);
                if e & 0xFF != 0 {
                    // Resolved with its additional bits (all zero here: the smallest
                    // difference of the category, or 0 for SSSS 0).
                    let d = i32::from((e >> 16) as u16 as i16);
                    let want = if s == 0 { 0 } else { 1 - (1i32 << s) };
                    assert_eq!(d, want, "SSSS {s}");
                    assert_eq!(e & 0xFF, l + s);
                    (l, s)
                } else {
                    ((e >> 8) & 0xFF, e >> 16)
                }
            } else {
                dec.decode_slow(top16).unwrap()
            };
            assert_eq!(got, (l, s));
        }
    }

    #[test]
    fn single_symbol() {
        let mut freq = [0u32; 17];
        freq[3] = 100;
        let t = optimal_table(&freq);
        assert_eq!(t.len[3], 1);
        assert_eq!(t.code[3], 0);
    }

    #[test]
    fn overfull_table_rejected() {
        let mut bits = [0u8; 16];
        bits[0] = 3;
        assert!(HuffTable::new(&bits, &[0, 1, 2]).is_none());
    }
}
