//! Discrete wavelet transforms of T.800 Annex F, forward and inverse, 2-D, in place in the Mallat
//! layout: each level splits the current low-pass region (top left) into its low half
//! (first `ceil(n / 2)` columns / rows) and high half. The tile starts at the origin, so
//! every signal starts at an even index: low-pass `ceil(n / 2)` samples, high-pass
//! `floor(n / 2)`, whole-sample symmetric extension at both ends.
//!
//! * Reversible 5/3 (F.3.8.1 and the forward of F.4.8.1): integer lifting.
//! * Irreversible 9/7: the four lifting steps, then low-pass samples divided and
//!   high-pass ones multiplied by K (the inverse of F.3.8.2's scaling).

/// 9/7 lifting constants (T.800 Table F.4).
const ALPHA: f32 = -1.586_134_3;
const BETA: f32 = -0.052_980_12;
const GAMMA: f32 = 0.882_911_1;
const DELTA: f32 = 0.443_506_87;
const K: f32 = 1.230_174_1;

/// The sizes of the low-pass region after each level: `sizes[0]` is the tile's,
/// `sizes[n]` after `n` levels.
pub(crate) fn sizes(width: usize, height: usize, levels: u32) -> Vec<(usize, usize)> {
    let mut out = vec![(width, height)];
    let (mut w, mut h) = (width, height);
    for _ in 0..levels {
        w = w.div_ceil(2);
        h = h.div_ceil(2);
        out.push((w, h));
    }
    out
}

/// A wavelet's analysis and synthesis, a row or a level at a time. Every signal starts at
/// an even index and is mirrored at its ends (whole-sample symmetric extension, F.3.7):
/// a step's neighbour past the last value is the one before it.
trait Wavelet {
    type T: Copy + Default;
    /// A row (at least 2 long) of samples in order split and lifted into its low
    /// values, then its high ones, through `tmp` (as long).
    fn analyse_row(x: &mut [Self::T], tmp: &mut [Self::T]);
    /// One level's analysis of the region `w` x `h` of `plane` (rows `stride` apart,
    /// `h` at least 2) into `out` (`w` x `h`, rows `w` apart): its columns split and
    /// lifted into low rows, then high rows, then each row when `rows` (a buffer of
    /// `w`; `w` at least 2): the inverse of [`Wavelet::synthesise`], in one pass down the
    /// rows as it is. `plane`'s region is left as it was.
    fn analyse(
        plane: &[Self::T],
        stride: usize,
        wh: (usize, usize),
        out: &mut [Self::T],
        rows: Option<&mut [Self::T]>,
    );
    /// A row (at least 2 long) from low then high values back to samples in order,
    /// through `tmp` (as long).
    fn synthesise_row(x: &mut [Self::T], tmp: &mut [Self::T]);
    /// One level's synthesis of the region `w` x `h` of `plane` (rows `stride` apart,
    /// `h` at least 2) into `out` (`w` x `h`, rows `w` apart): its rows first when
    /// `rows` (a buffer of `w`; `w` at least 2), then its columns, from low rows then
    /// high rows to rows in order. One pass down the rows: each row synthesised just
    /// before the columns' first step reads it, and each step of the columns taken on
    /// a row as soon as the rows it reads are made, so that the few rows at work stay
    /// in cache (where a pass per step over the whole region made it several times).
    /// `plane`'s region is left anything.
    fn synthesise(
        plane: &mut [Self::T],
        stride: usize,
        wh: (usize, usize),
        out: &mut [Self::T],
        rows: Option<&mut [Self::T]>,
    );
}

/// The first `n` values of `buf`, grown (zeroed) only when it is shorter: the callers
/// write every value, so a buffer kept from the last level or frame is not cleared.
#[inline(always)]
fn sized<T: Copy + Default>(buf: &mut Vec<T>, n: usize) -> &mut [T] {
    if buf.len() < n {
        buf.resize(n, T::default());
    }
    &mut buf[..n]
}

/// Row `r` of `rows` (`stride` apart, `w` long).
#[inline(always)]
fn at<T>(rows: &[T], stride: usize, w: usize, r: usize) -> &[T] {
    &rows[r * stride..r * stride + w]
}

/// Row `r` of `rows` (`stride` apart, `w` long), to write.
#[inline(always)]
fn at_mut<T>(rows: &mut [T], stride: usize, w: usize, r: usize) -> &mut [T] {
    &mut rows[r * stride..r * stride + w]
}

/// Row `2i + 1` of `out` (rows `w` apart, `nl` even rows made) to write, and the even
/// rows on both sides of it to read (`2i` and `2i + 2`, that one mirrored to `2i` at
/// the end).
#[inline(always)]
fn odd_row<T>(out: &mut [T], w: usize, i: usize, nl: usize) -> (&mut [T], &[T], &[T]) {
    let next = 2 * (i + 1).min(nl - 1);
    let (before, rest) = out.split_at_mut((2 * i + 1) * w);
    let (o, after) = rest.split_at_mut(w);
    let a = &before[2 * i * w..2 * i * w + w];
    let b = if next == 2 * i {
        a
    } else {
        &after[(next - 2 * i - 2) * w..(next - 2 * i - 2) * w + w]
    };
    (o, a, b)
}

/// The reversible 5/3 (F.3.8.1's inverse, run forward), on values of `I`: `i32`, or
/// `i16` for a tile whose every value fits ([`narrow_fits`]).
struct Rev53<I>(std::marker::PhantomData<I>);

/// The values the 5/3 lifts, and its four lifting steps on a value and its two
/// neighbours. `i32`: wrapping (a damaged codestream's coefficients may be anything, and
/// give samples the clamp bounds; never a panic). `i16`: each step worked in `i32` and
/// the result kept in 16 bits (loads and stores half as wide; what a valid tile holds
/// fits, [`narrow_fits`]; a damaged one's values wrap, as in `i32`).
pub(crate) trait Lifted: Copy + Default + Send + Sync {
    /// The forward predict step, `X(2i+1) - (X(2i) + X(2i+2)) >> 1`.
    fn split_high(x: Self, a: Self, b: Self) -> Self;
    /// The forward update step, `X(2i) + (H(i-1) + H(i) + 2) >> 2`.
    fn split_low(x: Self, a: Self, b: Self) -> Self;
    /// `L(i) - (H(i-1) + H(i) + 2) >> 2`.
    fn update(l: Self, a: Self, b: Self) -> Self;
    /// `H(i) + (L(i) + L(i+1)) >> 1`.
    fn predict(h: Self, a: Self, b: Self) -> Self;
}

impl Lifted for i32 {
    #[inline(always)]
    fn split_high(x: i32, a: i32, b: i32) -> i32 {
        x.wrapping_sub(a.wrapping_add(b) >> 1)
    }

    #[inline(always)]
    fn split_low(x: i32, a: i32, b: i32) -> i32 {
        x.wrapping_add(a.wrapping_add(b).wrapping_add(2) >> 2)
    }

    #[inline(always)]
    fn update(l: i32, a: i32, b: i32) -> i32 {
        l.wrapping_sub(a.wrapping_add(b).wrapping_add(2) >> 2)
    }

    #[inline(always)]
    fn predict(h: i32, a: i32, b: i32) -> i32 {
        h.wrapping_add(a.wrapping_add(b) >> 1)
    }
}

impl Lifted for i16 {
    #[inline(always)]
    fn split_high(x: i16, a: i16, b: i16) -> i16 {
        i32::split_high(x.into(), a.into(), b.into()) as i16
    }

    #[inline(always)]
    fn split_low(x: i16, a: i16, b: i16) -> i16 {
        i32::split_low(x.into(), a.into(), b.into()) as i16
    }

    #[inline(always)]
    fn update(l: i16, a: i16, b: i16) -> i16 {
        i32::update(l.into(), a.into(), b.into()) as i16
    }

    #[inline(always)]
    fn predict(h: i16, a: i16, b: i16) -> i16 {
        i32::predict(h.into(), a.into(), b.into()) as i16
    }
}

impl<I: Lifted> Wavelet for Rev53<I> {
    type T = I;
    /// High values `H(i) = X(2i+1) - (X(2i) + X(2i+2)) >> 1`, then low ones
    /// `L(i) = X(2i) + (H(i-1) + H(i) + 2) >> 2`, mirrored at the ends.
    #[inline(always)]
    fn analyse_row(x: &mut [I], tmp: &mut [I]) {
        let nl = x.len().div_ceil(2);
        let (tl, th) = tmp.split_at_mut(nl);
        split_predict_into(x, tl, th, I::split_high);
        let (xl, xh) = x.split_at_mut(nl);
        update_into(xl, tl, th, I::split_low);
        xh.copy_from_slice(th);
    }

    /// Each high row made as soon as the rows it reads are there, each low row as soon
    /// as the high rows on both sides of it are; a row's own analysis once no column
    /// step reads it any more (a low row at once, a high row after the next low row).
    #[inline(always)]
    fn analyse(
        plane: &[I],
        stride: usize,
        (w, h): (usize, usize),
        out: &mut [I],
        mut rows: Option<&mut [I]>,
    ) {
        let (nl, nh) = (h.div_ceil(2), h / 2);
        let (low, high) = out.split_at_mut(nl * w);
        let x = |r: usize| at(plane, stride, w, r);
        for k in 0..=nl {
            if k < nh {
                let (x0, x1, x2) = (x(2 * k), x(2 * k + 1), x(2 * (k + 1).min(nl - 1)));
                let o = at_mut(high, w, w, k);
                for (((o, &x1), &a), &b) in o.iter_mut().zip(x1).zip(x0).zip(x2) {
                    *o = I::split_high(x1, a, b);
                }
            }
            if k < nl {
                let (a, b) = (
                    at(high, w, w, k.saturating_sub(1)),
                    at(high, w, w, k.min(nh - 1)),
                );
                let o = at_mut(low, w, w, k);
                for (((o, &x0), &a), &b) in o.iter_mut().zip(x(2 * k)).zip(a).zip(b) {
                    *o = I::split_low(x0, a, b);
                }
                if let Some(t) = rows.as_deref_mut() {
                    Self::analyse_row(at_mut(low, w, w, k), t);
                }
            }
            // High row k - 1 was last read by low row k.
            if let (Some(t), Some(i)) = (rows.as_deref_mut(), k.checked_sub(1).filter(|&i| i < nh))
            {
                Self::analyse_row(at_mut(high, w, w, i), t);
            }
        }
    }

    /// Even rows `X(2i) = L(i) - (H(i-1) + H(i) + 2) >> 2`, and odd rows
    /// `X(2i+1) = H(i) + (X(2i) + X(2i+2)) >> 1`, mirrored at the ends:
    /// each odd row made as soon as the even rows on both sides of it are.
    #[inline(always)]
    fn synthesise(
        plane: &mut [I],
        stride: usize,
        (w, h): (usize, usize),
        out: &mut [I],
        mut rows: Option<&mut [I]>,
    ) {
        let (nl, nh) = (h.div_ceil(2), h / 2);
        for k in 0..=nl {
            if let Some(t) = rows.as_deref_mut() {
                if k < nl {
                    Self::synthesise_row(at_mut(plane, stride, w, k), t);
                }
                if k < nh {
                    Self::synthesise_row(at_mut(plane, stride, w, nl + k), t);
                }
            }
            if k < nl {
                let (l, a, b) = (
                    at(plane, stride, w, k),
                    at(plane, stride, w, nl + k.saturating_sub(1)),
                    at(plane, stride, w, nl + k.min(nh - 1)),
                );
                let o = &mut out[2 * k * w..2 * k * w + w];
                for (((o, &l), &a), &b) in o.iter_mut().zip(l).zip(a).zip(b) {
                    *o = I::update(l, a, b);
                }
            }
            if let Some(i) = k.checked_sub(1).filter(|&i| i < nh) {
                let (o, a, b) = odd_row(out, w, i, nl);
                let hrow = at(plane, stride, w, nl + i);
                for (((o, &hv), &a), &b) in o.iter_mut().zip(hrow).zip(a).zip(b) {
                    *o = I::predict(hv, a, b);
                }
            }
        }
    }

    /// [`Wavelet::synthesise_row`] with both lifting steps out of place
    /// ([`lift_two_into`]: the row is not copied first), `L'(i) = L(i) - (H(i-1) + H(i) +
    /// 2) >> 2`, then `H'(i) = H(i) + (L'(i) + L'(i+1)) >> 1`; then interleaved back.
    #[inline(always)]
    fn synthesise_row(x: &mut [I], tmp: &mut [I]) {
        let (tl, th) = tmp.split_at_mut(x.len().div_ceil(2));
        lift_two_into(x, tl, th, I::update, I::predict);
        interleave_into(x, tl, th);
    }
}

/// The irreversible 9/7: four lifting steps, then the scaling by K.
struct Irr97;

/// The inverse 9/7's steps on a value and its two neighbours, the scaling (low values
/// by K, high ones by 1 / K) folded into the first two, which scale each value as they
/// read or write it: one pass fewer over the values, the same operations on the same
/// values as scaling first.
impl Irr97 {
    const INV_K: f32 = 1.0 / K;

    #[inline(always)]
    fn undo_delta(l: f32, a: f32, b: f32) -> f32 {
        l * K - DELTA * (a * Self::INV_K + b * Self::INV_K)
    }

    #[inline(always)]
    fn undo_gamma(h: f32, a: f32, b: f32) -> f32 {
        h * Self::INV_K - GAMMA * (a + b)
    }

    #[inline(always)]
    fn undo_beta(l: f32, a: f32, b: f32) -> f32 {
        l - BETA * (a + b)
    }

    #[inline(always)]
    fn undo_alpha(h: f32, a: f32, b: f32) -> f32 {
        h - ALPHA * (a + b)
    }
}

impl Wavelet for Irr97 {
    type T = f32;
    /// The four lifting steps (`x + c (a + b)` for alpha, beta, gamma and delta), then
    /// the low values divided by K, the high ones multiplied.
    #[inline(always)]
    fn analyse_row(x: &mut [f32], tmp: &mut [f32]) {
        let nl = x.len().div_ceil(2);
        let (tl, th) = tmp.split_at_mut(nl);
        split_predict_into(x, tl, th, |v, a, b| v + ALPHA * (a + b));
        update_in_place(tl, th, |v, a, b| v + BETA * (a + b));
        predict_in_place(th, tl, |v, a, b| v + GAMMA * (a + b));
        update_in_place(tl, th, |v, a, b| v + DELTA * (a + b));
        let (xl, xh) = x.split_at_mut(nl);
        for (o, &l) in xl.iter_mut().zip(&*tl) {
            *o = l * (1.0 / K);
        }
        for (o, &h) in xh.iter_mut().zip(&*th) {
            *o = h * K;
        }
    }

    /// The four steps down the rows as a pipeline into `out` (step k: high row k,
    /// alpha; low row k, beta; high row k - 1, gamma; low row k - 1, delta, then divided
    /// by K; high row k - 2, multiplied by K once delta has read it), each row's own
    /// analysis as soon as it is final. The same operations on the same values as a
    /// pass per step.
    #[inline(always)]
    fn analyse(
        plane: &[f32],
        stride: usize,
        (w, h): (usize, usize),
        out: &mut [f32],
        mut rows: Option<&mut [f32]>,
    ) {
        let (nl, nh) = (h.div_ceil(2), h / 2);
        let (low, high) = out.split_at_mut(nl * w);
        let x = |r: usize| at(plane, stride, w, r);
        let (lo, hi) = (|i: usize| i.saturating_sub(1), |i: usize| i.min(nh - 1));
        for k in 0..nl.max(nh) + 2 {
            if k < nh {
                let (x0, x1, x2) = (x(2 * k), x(2 * k + 1), x(2 * (k + 1).min(nl - 1)));
                let o = at_mut(high, w, w, k);
                for (((o, &x1), &a), &b) in o.iter_mut().zip(x1).zip(x0).zip(x2) {
                    *o = x1 + ALPHA * (a + b);
                }
            }
            if k < nl {
                let (a, b) = (at(high, w, w, lo(k)), at(high, w, w, hi(k)));
                let o = at_mut(low, w, w, k);
                for (((o, &x0), &a), &b) in o.iter_mut().zip(x(2 * k)).zip(a).zip(b) {
                    *o = x0 + BETA * (a + b);
                }
            }
            if let Some(i) = k.checked_sub(1).filter(|&i| i < nh) {
                let (a, b) = (at(low, w, w, i), at(low, w, w, (i + 1).min(nl - 1)));
                for ((o, &a), &b) in at_mut(high, w, w, i).iter_mut().zip(a).zip(b) {
                    *o += GAMMA * (a + b);
                }
            }
            if let Some(i) = k.checked_sub(1).filter(|&i| i < nl) {
                let (a, b) = (at(high, w, w, lo(i)), at(high, w, w, hi(i)));
                for ((o, &a), &b) in at_mut(low, w, w, i).iter_mut().zip(a).zip(b) {
                    *o = (*o + DELTA * (a + b)) * (1.0 / K);
                }
                if let Some(t) = rows.as_deref_mut() {
                    Self::analyse_row(at_mut(low, w, w, i), t);
                }
            }
            if let Some(i) = k.checked_sub(2).filter(|&i| i < nh) {
                let o = at_mut(high, w, w, i);
                for v in o.iter_mut() {
                    *v *= K;
                }
                if let Some(t) = rows.as_deref_mut() {
                    Self::analyse_row(o, t);
                }
            }
        }
    }

    /// [`Wavelet::synthesise`]: the scaling and the first two steps in place, the last two
    /// into `out`. The same operations on the same values as a pass per step.
    #[inline(always)]
    fn synthesise(
        plane: &mut [f32],
        stride: usize,
        (w, h): (usize, usize),
        out: &mut [f32],
        mut rows: Option<&mut [f32]>,
    ) {
        let (nl, nh) = (h.div_ceil(2), h / 2);
        let (low, high) = plane.split_at_mut(nl * stride);
        let (lo, hi) = (|i: usize| i.saturating_sub(1), |i: usize| i.min(nh - 1));
        // Step k makes low row k (delta), high row k - 1 (gamma, from low rows k - 1 and
        // k), even row 2(k - 2) of `out` (beta, from high rows k - 3 and k - 2) and odd
        // row 2(k - 3) + 1 (alpha, from even rows k - 3 and k - 2): each reads only rows
        // made before it, and delta reads high rows before gamma changes them.
        for k in 0..nl.max(nh) + 3 {
            if let Some(t) = rows.as_deref_mut() {
                if k < nl {
                    Self::synthesise_row(at_mut(low, stride, w, k), t);
                }
                if k < nh {
                    Self::synthesise_row(at_mut(high, stride, w, k), t);
                }
            }
            if k < nl {
                let (a, b) = (at(high, stride, w, lo(k)), at(high, stride, w, hi(k)));
                for ((l, &a), &b) in at_mut(low, stride, w, k).iter_mut().zip(a).zip(b) {
                    *l = Self::undo_delta(*l, a, b);
                }
            }
            if let Some(i) = k.checked_sub(1).filter(|&i| i < nh) {
                let (a, b) = (
                    at(low, stride, w, i),
                    at(low, stride, w, (i + 1).min(nl - 1)),
                );
                for ((hv, &a), &b) in at_mut(high, stride, w, i).iter_mut().zip(a).zip(b) {
                    *hv = Self::undo_gamma(*hv, a, b);
                }
            }
            if let Some(i) = k.checked_sub(2).filter(|&i| i < nl) {
                let (l, a, b) = (
                    at(low, stride, w, i),
                    at(high, stride, w, lo(i)),
                    at(high, stride, w, hi(i)),
                );
                let o = &mut out[2 * i * w..2 * i * w + w];
                for (((o, &l), &a), &b) in o.iter_mut().zip(l).zip(a).zip(b) {
                    *o = Self::undo_beta(l, a, b);
                }
            }
            if let Some(i) = k.checked_sub(3).filter(|&i| i < nh) {
                let (o, a, b) = odd_row(out, w, i, nl);
                for (((o, &hv), &a), &b) in o.iter_mut().zip(at(high, stride, w, i)).zip(a).zip(b) {
                    *o = Self::undo_alpha(hv, a, b);
                }
            }
        }
    }

    /// [`Wavelet::synthesise_row`] without the row's copy: the scaling and the first two
    /// lifting steps out of place ([`lift_two_into`]; the same operations on the same
    /// values as steps in place, so the same results), the third in `tmp`, the last
    /// written interleaved into the row ([`predict_interleave_into`]).
    #[inline(always)]
    fn synthesise_row(x: &mut [f32], tmp: &mut [f32]) {
        let (tl, th) = tmp.split_at_mut(x.len().div_ceil(2));
        lift_two_into(x, tl, th, Self::undo_delta, Self::undo_gamma);
        update_in_place(tl, th, Self::undo_beta);
        predict_interleave_into(x, tl, th, Self::undo_alpha);
    }
}

/// The first two lifting steps of a row's synthesis out of place: the row `x` holds its
/// low values, then its high ones; `tl` (as many as the low values) receives
/// `update(L(i), H(i-1), H(i))`, then `th` (the high ones') `predict(H(i), L'(i),
/// L'(i+1))` from the new low values, mirrored at the ends (`x` at
/// least 2 long). Zipped loops, which vectorise.
#[inline(always)]
fn lift_two_into<T: Copy>(
    x: &[T],
    tl: &mut [T],
    th: &mut [T],
    update: impl Fn(T, T, T) -> T,
    predict: impl Fn(T, T, T) -> T,
) {
    let (nl, nh) = (tl.len(), th.len());
    let (xl, xh) = x.split_at(nl);
    update_into(tl, xl, xh, update);
    // High: all but (even widths) the last zipped, that one mirrored.
    let inner = nh.min(nl - 1);
    for (((t, &h), &a), &b) in th[..inner].iter_mut().zip(xh).zip(&*tl).zip(&tl[1..]) {
        *t = predict(h, a, b);
    }
    if inner < nh {
        th[nh - 1] = predict(xh[nh - 1], tl[nl - 1], tl[nl - 1]);
    }
}

/// An update step out of place: `dst[i] = update(low[i], high[i-1], high[i])` (as many
/// as the low values; at least one high value), mirrored at the ends. Zipped: the
/// first and (odd lengths) last with mirrored neighbours, the rest in one loop.
#[inline(always)]
fn update_into<T: Copy>(dst: &mut [T], low: &[T], high: &[T], update: impl Fn(T, T, T) -> T) {
    let (nl, nh) = (low.len(), high.len());
    dst[0] = update(low[0], high[0], high[0]);
    for (((t, &l), &a), &b) in dst[1..nh]
        .iter_mut()
        .zip(&low[1..nh])
        .zip(high)
        .zip(&high[1..])
    {
        *t = update(l, a, b);
    }
    if nl > nh {
        dst[nh] = update(low[nh], high[nh - 1], high[nh - 1]);
    }
}

/// A row `x` of samples in order split into its even samples, `tl`, and the first
/// predict step of its odd ones, `th[i] = predict(X(2i+1), X(2i), X(2i+2))`, the last
/// right neighbour mirrored when the length is even (at least 2 long).
#[inline(always)]
fn split_predict_into<T: Copy>(
    x: &[T],
    tl: &mut [T],
    th: &mut [T],
    predict: impl Fn(T, T, T) -> T,
) {
    let (nl, nh) = (tl.len(), th.len());
    for (t, pair) in tl.iter_mut().zip(x.chunks_exact(2)) {
        *t = pair[0];
    }
    if nl > nh {
        tl[nl - 1] = x[x.len() - 1];
    }
    let inner = nh.min(nl - 1);
    for ((t, pair), &b) in th[..inner].iter_mut().zip(x.chunks_exact(2)).zip(&tl[1..]) {
        *t = predict(pair[1], pair[0], b);
    }
    if inner < nh {
        let a = x[2 * nh - 2];
        th[nh - 1] = predict(x[2 * nh - 1], a, a);
    }
}

/// A predict step in place on a row's high values `th` from its low ones `tl`:
/// `th[i] = predict(th[i], tl[i], tl[i+1])`, mirrored at the end.
#[inline(always)]
fn predict_in_place<T: Copy>(th: &mut [T], tl: &[T], predict: impl Fn(T, T, T) -> T) {
    let (nl, nh) = (tl.len(), th.len());
    let inner = nh.min(nl - 1);
    for ((t, &a), &b) in th[..inner].iter_mut().zip(tl).zip(&tl[1..]) {
        *t = predict(*t, a, b);
    }
    if inner < nh {
        th[nh - 1] = predict(th[nh - 1], tl[nl - 1], tl[nl - 1]);
    }
}

/// An update step in place on a row's low values `tl` from its high ones `th` (at least
/// one): `tl[i] = update(tl[i], th[i-1], th[i])`, mirrored at the ends.
/// Zipped, as [`lift_two_into`].
#[inline(always)]
fn update_in_place<T: Copy>(tl: &mut [T], th: &[T], update: impl Fn(T, T, T) -> T) {
    let (nl, nh) = (tl.len(), th.len());
    tl[0] = update(tl[0], th[0], th[0]);
    for ((t, &a), &b) in tl[1..nh].iter_mut().zip(th).zip(&th[1..]) {
        *t = update(*t, a, b);
    }
    if nl > nh {
        tl[nh] = update(tl[nh], th[nh - 1], th[nh - 1]);
    }
}

/// A predict step on a row's high values `th` from its low ones `tl`, `predict(th[i],
/// tl[i], tl[i+1])` mirrored at the end, written interleaved with the low values into
/// the row `x` (even samples low): the last step and the interleave in one pass.
#[inline(always)]
fn predict_interleave_into<T: Copy>(
    x: &mut [T],
    tl: &[T],
    th: &[T],
    predict: impl Fn(T, T, T) -> T,
) {
    let (nl, nh) = (tl.len(), th.len());
    let inner = nh.min(nl - 1);
    for (((pair, &h), &a), &b) in x
        .chunks_exact_mut(2)
        .zip(&th[..inner])
        .zip(tl)
        .zip(&tl[1..])
    {
        pair[0] = a;
        pair[1] = predict(h, a, b);
    }
    if inner < nh {
        // An even length: the last high value's right neighbour mirrored.
        let a = tl[nl - 1];
        x[2 * nh - 2] = a;
        x[2 * nh - 1] = predict(th[nh - 1], a, a);
    } else if x.len() % 2 == 1 {
        x[x.len() - 1] = tl[nl - 1];
    }
}

/// Low values `tl` and high ones `th` interleaved into the row `x` (even samples low).
#[inline(always)]
fn interleave_into<T: Copy>(x: &mut [T], tl: &[T], th: &[T]) {
    for ((pair, &l), &h) in x.chunks_exact_mut(2).zip(tl).zip(th) {
        pair[0] = l;
        pair[1] = h;
    }
    if x.len() % 2 == 1 {
        x[x.len() - 1] = tl[tl.len() - 1];
    }
}

/// `levels` levels of wavelet `W` over the `width` x `height` plane (stride `width`),
/// forward (T.800 F.4.2: from the tile down, each level's columns, then its rows; the
/// order matters for the 5/3's rounding) or inverse (F.3.2: from the deepest level up,
/// rows, then columns); `tmp` a buffer kept by the caller. Each level is made in `tmp`
/// in one pass down its rows ([`Wavelet::analyse`], [`Wavelet::synthesise`]); at the
/// tile's level `tmp` then becomes the plane (the plane's old buffer the caller's next
/// `tmp`), below it the level is copied back.
///
/// Where the processor has AVX2 (checked once), compiled for it: the same source, its
/// loops eight lanes wide instead of four. The same operations in the same order (Rust
/// fuses no multiply and add), so the same values.
fn transform<W: Wavelet, const FORWARD: bool>(
    plane: &mut Vec<W::T>,
    tmp: &mut Vec<W::T>,
    width: usize,
    height: usize,
    levels: u32,
) {
    #[cfg(target_arch = "x86_64")]
    if crate::cpu::vector() {
        // SAFETY: AVX2 was found on this processor.
        return unsafe { transform_avx2::<W, FORWARD>(plane, tmp, width, height, levels) };
    }
    transform_any::<W, FORWARD>(plane, tmp, width, height, levels)
}

/// [`transform`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn transform_avx2<W: Wavelet, const FORWARD: bool>(
    plane: &mut Vec<W::T>,
    tmp: &mut Vec<W::T>,
    width: usize,
    height: usize,
    levels: u32,
) {
    transform_any::<W, FORWARD>(plane, tmp, width, height, levels)
}

/// The one source of [`transform`]'s builds: every function it reaches is inlined into
/// it.
#[inline(always)]
fn transform_any<W: Wavelet, const FORWARD: bool>(
    plane: &mut Vec<W::T>,
    tmp: &mut Vec<W::T>,
    width: usize,
    height: usize,
    levels: u32,
) {
    let mut sz = sizes(width, height, levels);
    sz.truncate(levels as usize);
    if !FORWARD {
        sz.reverse();
    }
    for (w, h) in sz {
        if h < 2 {
            // A single row, or none: the row transform alone.
            if w >= 2 {
                let row_tmp = sized(tmp, w);
                for y in 0..h {
                    let row = &mut plane[y * width..y * width + w];
                    if FORWARD {
                        W::analyse_row(row, row_tmp);
                    } else {
                        W::synthesise_row(row, row_tmp);
                    }
                }
            }
            continue;
        }
        let (out, row_tmp) = sized(tmp, w * h + w).split_at_mut(w * h);
        let rows = (w >= 2).then_some(row_tmp);
        if FORWARD {
            W::analyse(plane, width, (w, h), out, rows);
        } else {
            W::synthesise(plane, width, (w, h), out, rows);
        }
        if (w, h) == (width, height) && plane.len() == w * h {
            std::mem::swap(plane, tmp);
            plane.truncate(w * h); // a buffer kept from a larger frame
        } else {
            for (y, src) in tmp[..w * h].chunks_exact(w).enumerate() {
                plane[y * width..y * width + w].copy_from_slice(src);
            }
        }
    }
}

/// The inverse reversible 5/3 over `levels` levels of the `width` x `height` plane, of
/// 32-bit values or of 16-bit ones (a tile whose every value fits, [`narrow_fits`])
/// (`tmp`: a buffer kept by the caller; the plane may come back in it, see [`transform`]).
pub(crate) fn inverse_53<I: Lifted>(
    plane: &mut Vec<I>,
    tmp: &mut Vec<I>,
    width: usize,
    height: usize,
    levels: u32,
) {
    transform::<Rev53<I>, false>(plane, tmp, width, height, levels);
}

/// How much larger than its samples any value the 2-D reversible 5/3 makes of them can
/// be, over any number of levels up to [`NARROW_LEVELS`]: the L1 norm of a level's
/// equivalent high-pass filter, squared (each value is a weighted sum of samples; the
/// norms grow with the levels towards 1.716 for the low-pass and 2.867 for the
/// high-pass, so 8.22 for a high band of high bands, which is the largest; the test
/// `narrow_planes_hold_every_value_up_to_their_limit` computes them, and builds the
/// planes that reach them).
const NARROW_GAIN: f64 = 8.25;
/// The most levels the bound of [`NARROW_GAIN`] is checked for.
const NARROW_LEVELS: u32 = 16;

/// Whether every value the reversible 5/3 makes of samples at most `bound` in magnitude,
/// over `levels` levels, fits in 16 bits: what an inverse transform meets are the
/// forward one's values (its lifting undone step by step), each at most [`NARROW_GAIN`]
/// times the largest sample, give or take its roundings (less than 2 a level). Every
/// lifting sum is worked in 32 bits ([`Lifted`]).
pub(crate) fn narrow_fits(bound: u32, levels: u32) -> bool {
    levels <= NARROW_LEVELS
        && f64::from(bound) * NARROW_GAIN + 4.0 * f64::from(levels) <= f64::from(i16::MAX)
}

/// The inverse irreversible 9/7 over `levels` levels of the `width` x `height` plane.
pub(crate) fn inverse_97(
    plane: &mut Vec<f32>,
    tmp: &mut Vec<f32>,
    width: usize,
    height: usize,
    levels: u32,
) {
    transform::<Irr97, false>(plane, tmp, width, height, levels);
}

/// Reversible 5/3 over `levels` levels of the `width` x `height` plane (stride `width`);
/// `tmp` a buffer kept by the caller (the plane may come back in it, see [`transform`]).
pub(crate) fn forward_53(
    plane: &mut Vec<i32>,
    tmp: &mut Vec<i32>,
    width: usize,
    height: usize,
    levels: u32,
) {
    transform::<Rev53<i32>, true>(plane, tmp, width, height, levels);
}

/// Irreversible 9/7 over `levels` levels of the `width` x `height` plane (stride `width`).
pub(crate) fn forward_97(
    plane: &mut Vec<f32>,
    tmp: &mut Vec<f32>,
    width: usize,
    height: usize,
    levels: u32,
) {
    transform::<Irr97, true>(plane, tmp, width, height, levels);
}

/// The 1-D 9/7 synthesis of a unit sample, for the sub-band weights: the L2 norm of the
/// signal a single coefficient of the low band after `low_levels` levels (`high` false),
/// or of the high band at level `low_levels + 1` (`high` true), makes.
pub(crate) fn synthesis_norm_97(low_levels: u32, high: bool) -> f64 {
    let levels = low_levels + u32::from(high);
    let n = 64usize << levels;
    // Coefficients in the Mallat layout of the 1-D signal; the unit sample in the middle
    // of its band.
    let mut sz = vec![n];
    for _ in 0..levels {
        let last = *sz.last().unwrap();
        sz.push(last.div_ceil(2));
    }
    let mut x = vec![0f64; n];
    if high {
        let (start, end) = (sz[levels as usize], sz[levels as usize - 1]);
        x[start + (end - start) / 2] = 1.0;
    } else {
        x[sz[levels as usize] / 2] = 1.0;
    }
    for level in (0..levels as usize).rev() {
        let len = sz[level];
        let (nl, nh) = (len.div_ceil(2), len / 2);
        let mut s: Vec<f64> = x[..nl].iter().map(|v| v * f64::from(K)).collect();
        let mut d: Vec<f64> = x[nl..len].iter().map(|v| v / f64::from(K)).collect();
        for (coef, odd) in [(DELTA, false), (GAMMA, true), (BETA, false), (ALPHA, true)] {
            let coef = f64::from(coef);
            if odd {
                for i in 0..nh {
                    d[i] -= coef * (s[i] + s[(i + 1).min(nl - 1)]);
                }
            } else {
                for i in 0..nl {
                    s[i] -= coef * (d[i.saturating_sub(1)] + d[i.min(nh - 1)]);
                }
            }
        }
        for i in 0..nl {
            x[2 * i] = s[i];
        }
        for i in 0..nh {
            x[2 * i + 1] = d[i];
        }
    }
    x.iter().map(|v| v * v).sum::<f64>().sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inverse 5/3 of T.800 F.3.8.1 on a split row (low then high).
    fn inverse_row_53(y: &[i32]) -> Vec<i32> {
        let n = y.len();
        if n < 2 {
            return y.to_vec();
        }
        let (nl, nh) = (n.div_ceil(2), n / 2);
        let (s, d) = y.split_at(nl);
        let mut x = vec![0; n];
        for i in 0..nl {
            x[2 * i] = s[i] - ((d[i.saturating_sub(1)] + d[i.min(nh - 1)] + 2) >> 2);
        }
        for i in 0..nh {
            let right = x[(2 * i + 2).min(2 * nl - 2)];
            x[2 * i + 1] = d[i] + ((x[2 * i] + right) >> 1);
        }
        x
    }

    #[test]
    fn rows_53_invert_exactly() {
        for n in 1..40 {
            let x: Vec<i32> = (0..n).map(|i| (i * 7919) % 513 - 256).collect();
            let mut y = x.clone();
            forward_53(&mut y, &mut Vec::new(), n as usize, 1, 1);
            assert_eq!(inverse_row_53(&y), x, "length {n}");
        }
    }

    #[test]
    fn inverses_undo_the_forward_transforms() {
        for (w, h, levels) in [
            (1, 1, 2),
            (1, 7, 3),
            (7, 1, 3),
            (2, 2, 1),
            (37, 23, 4),
            (64, 65, 5),
        ] {
            let x: Vec<i32> = (0..w * h)
                .map(|i| (i as i32 * 7919) % 4099 - 2048)
                .collect();
            let mut y = x.clone();
            forward_53(&mut y, &mut vec![5; 9], w, h, levels);
            inverse_53(&mut y, &mut Vec::new(), w, h, levels);
            assert_eq!(y, x, "5/3 {w}x{h} at {levels}");
            let xf: Vec<f32> = x.iter().map(|&v| v as f32 / 4096.0).collect();
            let mut yf = xf.clone();
            forward_97(&mut yf, &mut Vec::new(), w, h, levels);
            inverse_97(&mut yf, &mut vec![7.0; 3], w, h, levels);
            for (a, b) in xf.iter().zip(&yf) {
                assert!((a - b).abs() < 1e-4, "9/7 {w}x{h} at {levels}: {a} {b}");
            }
        }
    }

    /// The inverse 9/7 as T.800 F.3.8.2 writes it, one step at a time over a whole
    /// signal: the scaling, then the four lifting steps, then the interleave.
    fn inverse_signal_97(y: &[f32]) -> Vec<f32> {
        let n = y.len();
        if n < 2 {
            return y.to_vec();
        }
        let (nl, nh) = (n.div_ceil(2), n / 2);
        let mut s: Vec<f32> = y[..nl].iter().map(|v| v * K).collect();
        let mut d: Vec<f32> = y[nl..].iter().map(|v| v * (1.0 / K)).collect();
        for (coef, odd) in [(DELTA, false), (GAMMA, true), (BETA, false), (ALPHA, true)] {
            if odd {
                for i in 0..nh {
                    d[i] -= coef * (s[i] + s[(i + 1).min(nl - 1)]);
                }
            } else {
                let before = d.clone();
                for i in 0..nl {
                    s[i] -= coef * (before[i.saturating_sub(1)] + before[i.min(nh - 1)]);
                }
            }
        }
        (0..n)
            .map(|i| if i % 2 == 0 { s[i / 2] } else { d[i / 2] })
            .collect()
    }

    /// The inverse 9/7 of a plane level by level, rows then columns, each signal by
    /// [`inverse_signal_97`].
    fn inverse_plane_97(plane: &mut [f32], width: usize, height: usize, levels: u32) {
        for &(w, h) in sizes(width, height, levels)[..levels as usize].iter().rev() {
            for y in 0..h {
                let row = inverse_signal_97(&plane[y * width..y * width + w]);
                plane[y * width..y * width + w].copy_from_slice(&row);
            }
            for x in 0..w {
                let col: Vec<f32> = (0..h).map(|y| plane[y * width + x]).collect();
                for (y, v) in inverse_signal_97(&col).into_iter().enumerate() {
                    plane[y * width + x] = v;
                }
            }
        }
    }

    /// The one-pass synthesis (rows just in time, the columns' four steps as a
    /// pipeline down the rows, the last two out of place) gives exactly the values of
    /// the transform taken a step at a time: every size up to 12 x 12 and some larger,
    /// odd and even, one to four levels.
    #[test]
    fn inverse_97_is_the_standard_step_by_step() {
        let mut sizes_to_try: Vec<(usize, usize, u32)> = Vec::new();
        for w in 1..=12 {
            for h in 1..=12 {
                sizes_to_try.push((w, h, 1 + (w * h % 3) as u32));
            }
        }
        sizes_to_try.extend([(37, 23, 4), (64, 65, 3), (129, 7, 2), (5, 130, 4)]);
        for (w, h, levels) in sizes_to_try {
            let x: Vec<f32> = (0..w * h)
                .map(|i| ((i * 7919) % 4099) as f32 / 8.0 - 256.0)
                .collect();
            let mut expected = x.clone();
            inverse_plane_97(&mut expected, w, h, levels);
            let mut got = x.clone();
            inverse_97(&mut got, &mut vec![3.0; 5], w, h, levels);
            assert!(
                got.iter()
                    .zip(&expected)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{w}x{h} at {levels} levels"
            );
        }
    }

    /// The weights of the 1-D 5/3 coefficient at `at` (after `levels` levels of a
    /// signal `n` long) on each sample: the transform of each unit impulse, scaled up so
    /// that its roundings do not matter.
    fn weights_53(n: usize, levels: u32, at: usize) -> Vec<i64> {
        (0..n)
            .map(|m| {
                let mut x = vec![0i32; n];
                x[m] = 1 << 20;
                forward_53(&mut x, &mut Vec::new(), n, 1, levels);
                i64::from(x[at])
            })
            .collect()
    }

    /// A `n` x `n` plane of +-`bound` whose 5/3 transform's coefficient at (`at`, `at`)
    /// after `levels` levels is the largest any plane of such samples has there: each
    /// sample's sign that of its weight (in rows and columns alike, the transform being
    /// separable).
    fn worst_plane(n: usize, levels: u32, at: usize, bound: i32) -> Vec<i32> {
        let w = weights_53(n, levels, at);
        let sign = |v: i64| if v < 0 { -1 } else { 1 };
        let mut plane = vec![0; n * n];
        for y in 0..n {
            for x in 0..n {
                plane[y * n + x] = bound * sign(w[y]) * sign(w[x]);
            }
        }
        plane
    }

    /// The L1 norms of the 1-D 5/3's equivalent low-pass and high-pass filters at each
    /// level up to `levels` (no rounding): each level's filters the last level's
    /// low-pass one convolved with its own (their taps spread 2^(level - 1) apart).
    fn cascade_norms(levels: u32) -> Vec<(f64, f64)> {
        fn convolve(a: &[f64], taps: &[f64], spread: usize) -> Vec<f64> {
            let mut out = vec![0.0; a.len() + (taps.len() - 1) * spread];
            for (i, &x) in a.iter().enumerate() {
                for (k, &t) in taps.iter().enumerate() {
                    out[i + k * spread] += x * t;
                }
            }
            out
        }
        let low = [-0.125, 0.25, 0.75, 0.25, -0.125];
        let high = [-0.5, 1.0, -0.5];
        let norm = |f: &[f64]| f.iter().map(|v| v.abs()).sum::<f64>();
        let mut lo = vec![1.0];
        let mut out = Vec::new();
        for k in 0..levels {
            let hi = convolve(&lo, &high, 1 << k);
            lo = convolve(&lo, &low, 1 << k);
            out.push((norm(&lo), norm(&hi)));
        }
        out
    }

    /// 16-bit planes ([`narrow_fits`]) hold every value the 5/3 makes of samples within
    /// their bound: the gain bounds the norms of every level's filters; planes built to
    /// reach a level's largest value (for 8-bit samples after the colour transform, and
    /// 12-bit ones without) stay within it and come back exactly through the 16-bit
    /// inverse; such a plane of 12-bit samples after the colour transform, which the
    /// bound refuses, does not fit; and random planes invert exactly too.
    #[test]
    fn narrow_planes_hold_every_value_up_to_their_limit() {
        let mut prev_lo: f64 = 1.0;
        for (k, (lo, hi)) in cascade_norms(NARROW_LEVELS).into_iter().enumerate() {
            // The largest of a level's bands (and of its columns' values before its rows).
            let most = (hi * hi).max(lo * lo).max(lo * hi).max(prev_lo * hi);
            assert!(most <= NARROW_GAIN, "level {}: {most}", k + 1);
            prev_lo = lo;
        }
        assert!(narrow_fits(255, NARROW_LEVELS) && narrow_fits(2048, NARROW_LEVELS));
        assert!(!narrow_fits(4095, 1) && !narrow_fits(255, NARROW_LEVELS + 1));
        let n = 512;
        for (bound, fits) in [(255, true), (2048, true), (4095, false)] {
            let mut largest_seen = 0;
            for levels in 1..=6 {
                // The middle of the high band of high bands of the deepest level.
                let lo = sizes(n, 1, levels)[levels as usize].0;
                let hi = sizes(n, 1, levels - 1)[levels as usize - 1].0;
                let x = worst_plane(n, levels, (lo + hi) / 2, bound);
                let mut largest = 0;
                for l in 1..=levels {
                    let mut part = x.clone();
                    forward_53(&mut part, &mut Vec::new(), n, n, l);
                    largest = largest.max(part.iter().map(|v| v.abs()).max().unwrap());
                }
                largest_seen = largest_seen.max(largest);
                if fits {
                    let ceiling = f64::from(bound) * NARROW_GAIN + 4.0 * f64::from(levels);
                    assert!(
                        f64::from(largest) <= ceiling,
                        "{bound} at {levels}: {largest}"
                    );
                    let mut y = x.clone();
                    forward_53(&mut y, &mut Vec::new(), n, n, levels);
                    let mut narrow: Vec<i16> = y.iter().map(|&v| v as i16).collect();
                    inverse_53(&mut narrow, &mut Vec::new(), n, n, levels);
                    let back: Vec<i32> = narrow.iter().map(|&v| i32::from(v)).collect();
                    assert_eq!(back, x, "{bound} at {levels}");
                }
            }
            assert_eq!(
                largest_seen <= i32::from(i16::MAX),
                fits,
                "{bound}: {largest_seen}"
            );
        }
        for (w, h, levels) in [(37, 23, 4), (64, 65, 5), (1, 7, 3), (7, 1, 3), (640, 3, 5)] {
            let x: Vec<i32> = (0..w * h).map(|i| (i as i32 * 7919) % 511 - 255).collect();
            let mut y = x.clone();
            forward_53(&mut y, &mut Vec::new(), w, h, levels);
            let mut narrow: Vec<i16> = y.iter().map(|&v| v as i16).collect();
            inverse_53(&mut narrow, &mut vec![3; 5], w, h, levels);
            assert!(
                narrow.iter().zip(&x).all(|(&a, &b)| i32::from(a) == b),
                "{w}x{h} at {levels}"
            );
        }
    }

    #[test]
    fn constant_planes_have_no_detail() {
        let (w, h) = (37, 23);
        let mut p = vec![5i32; w * h];
        forward_53(&mut p, &mut Vec::new(), w, h, 3);
        let (lw, lh) = sizes(w, h, 3)[3];
        for y in 0..h {
            for x in 0..w {
                let v = p[y * w + x];
                assert_eq!(v, if x < lw && y < lh { 5 } else { 0 }, "{x},{y}");
            }
        }
        let mut f = vec![0.25f32; w * h];
        forward_97(&mut f, &mut Vec::new(), w, h, 3);
        // The 9/7 low-pass keeps a constant (DC gain 1 after its 1/K).
        assert!((f[0] - 0.25).abs() < 1e-4, "{}", f[0]);
        assert!(f[w - 1].abs() < 1e-4);
    }

    #[test]
    fn synthesis_norms_grow_with_levels() {
        let l1 = synthesis_norm_97(1, false);
        let l2 = synthesis_norm_97(2, false);
        let h0 = synthesis_norm_97(0, true);
        assert!(l2 > l1 && l1 > 1.0 && h0 > 0.5, "{l1} {l2} {h0}");
    }
}
