//! Decoding a JPEG-LS scan (T.87 Annex A): the codes read from the scan's bits, Golomb-coded
//! prediction errors in the regular mode and run lengths in the run mode, along the walk
//! of [`super::lines`] over the context model of [`super::context`].

use super::bits::Bits;
use super::context::{corrupt, Coding, Model, J};
use super::header::Declined;
use super::lines::{self, Direction, Shape};

impl Bits<'_> {
    /// A mapped error value, Golomb-coded with `k` and limited to `limit` bits (A.5.3),
    /// for samples of `qbpp` bits whose errors stay below `2 * range`.
    #[inline(always)]
    fn value(&mut self, k: u32, limit: u32, (qbpp, range): (u32, i32)) -> Result<u32, Declined> {
        let escape = limit - qbpp - 1;
        let z = self
            .zeros(escape)
            .ok_or_else(|| corrupt("a code longer than LIMIT"))?;
        if z == escape {
            return Ok(self.read(qbpp) + 1);
        }
        let m = (u64::from(z) << k) | u64::from(self.read(k));
        if m > 2 * range as u64 {
            return Err(corrupt("an error value beyond the sample range"));
        }
        Ok(m as u32)
    }
}

impl Direction for Bits<'_> {
    const READS_SAMPLES: bool = false;

    #[inline(always)]
    fn regular_error<const L: bool>(
        &mut self,
        m: &Model<'_, L>,
        k: u32,
        bn: (i32, i32),
        _: (i32, i32, i32),
    ) -> Result<i32, Declined> {
        let v = self.value(k, m.c.limit, (m.c.qbpp, m.c.range))?;
        // The mapping undone, then A.5.2's special case.
        Ok(((v >> 1) as i32 ^ -((v & 1) as i32)) ^ lines::special::<L>(k, bn))
    }

    #[inline(always)]
    fn interruption_error<const L: bool>(
        &mut self,
        m: &Model<'_, L>,
        (kind, k, limit): (usize, u32, u32),
        _: (i32, i32, i32),
    ) -> Result<(i32, i32), Declined> {
        let em = self.value(k, limit, (m.c.qbpp, m.c.range))? as i32;
        let (n, nn) = (m.interruption[kind].n, m.interruption[kind].nn);
        let t = em + kind as i32;
        let map = t & 1;
        let abs = (t + map) / 2;
        let e = if (k != 0 || 2 * nn >= n) == (map != 0) {
            -abs
        } else {
            abs
        };
        Ok((e, em))
    }

    #[inline(always)]
    fn run_length(
        &mut self,
        run_index: &mut usize,
        _: &[i32],
        (_, left, _): (usize, usize, usize),
        _: i32,
    ) -> Result<usize, Declined> {
        let mut len = 0usize;
        while self.bit() == 1 {
            let step = 1usize << J[*run_index];
            let count = step.min(left - len);
            len += count;
            if count == step {
                *run_index = (*run_index + 1).min(31);
            }
            if len == left {
                return Ok(len);
            }
        }
        len += self.read(J[*run_index]) as usize;
        if len >= left {
            return Err(corrupt("a run past the end of its line"));
        }
        Ok(len)
    }

    fn line_done(&self) -> Result<(), Declined> {
        if self.overran() {
            return Err(corrupt("a scan that ends before its last line"));
        }
        Ok(())
    }
}

/// Decode a scan, handing each line to `put(row, component, samples)` (see
/// [`lines::code`]).
pub(super) fn decode(
    c: &Coding,
    bits: &mut Bits<'_>,
    shape: Shape,
    put: impl FnMut(usize, usize, &[i32]),
) -> Result<(), Declined> {
    lines::code(c, bits, shape, |_, _, _| {}, put)
}
