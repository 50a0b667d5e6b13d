package dev.pricer.cuda;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static dev.pricer.cuda.GpuTestSupport.*;

/** Flash-style causal GQA attention, forward and backward, against the explicit T×T computation in double. */
class AttentionKernelTest {

    @ParameterizedTest
    @CsvSource({"F32,2,45,4,2,16", "F32,1,70,8,2,64", "F32,2,33,4,4,128", "BF16,2,45,4,2,16", "BF16,2,70,8,2,64", "BF16,1,40,2,1,128"})
    void forwardAndBackwardMatchReference(ElementType t, int batch, int seq, int heads, int kvHeads, int hd) {
        Kernels kernels = new Kernels(cuda());
        SplittableRandom rnd = new SplittableRandom(seq * 31L + hd);
        int qn = batch * seq * heads * hd, kn = batch * seq * kvHeads * hd;
        float[] q = roundTo(t, random(rnd, qn, 1)), k = roundTo(t, random(rnd, kn, 1)), v = roundTo(t, random(rnd, kn, 1));
        float[] dout = roundTo(t, random(rnd, qn, 1));
        float scale = (float) (1 / Math.sqrt(hd));
        DeviceBuffer dq = upload(t, q), dk = upload(t, k), dv = upload(t, v), dOut = upload(t, dout);
        DeviceBuffer out = poisoned(t, qn), lse = poisoned(ElementType.F32, (long) batch * heads * seq);
        DeviceBuffer gq = poisoned(t, qn), gk = poisoned(t, kn), gv = poisoned(t, kn), delta = poisoned(ElementType.F32, (long) batch * heads * seq);
        kernels.attentionForward(t, out, lse, dq, dk, dv, null, batch, seq, seq, 0, heads, kvHeads, hd, scale);
        float[] outGot = download(t, out, qn);
        DeviceBuffer partials = cuda().allocate(Kernels.attentionPartialBytes(batch, seq, heads, hd));
        kernels.attentionBackward(t, gq, gk, gv, delta, partials, dq, dk, dv, dOut, lse, null, batch, seq, seq, 0, heads, kvHeads, hd, scale);

        double[] refOut = new double[qn], refDq = new double[qn], refDk = new double[kn], refDv = new double[kn];
        int group = heads / kvHeads;
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                int kh = h / group;
                double[][] p = new double[seq][seq];
                for (int i = 0; i < seq; i++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= i; j++) {
                        double s = 0;
                        for (int d = 0; d < hd; d++) s += q[qi(b, i, h, d, seq, heads, hd)] * k[qi(b, j, kh, d, seq, kvHeads, hd)];
                        p[i][j] = s * scale;
                        max = Math.max(max, p[i][j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= i; j++) sum += p[i][j] = Math.exp(p[i][j] - max);
                    for (int j = 0; j <= i; j++) p[i][j] /= sum;
                    for (int d = 0; d < hd; d++) {
                        double o = 0;
                        for (int j = 0; j <= i; j++) o += p[i][j] * v[qi(b, j, kh, d, seq, kvHeads, hd)];
                        refOut[qi(b, i, h, d, seq, heads, hd)] = o;
                    }
                }
                for (int i = 0; i < seq; i++) {
                    double di = 0;
                    for (int d = 0; d < hd; d++) di += dout[qi(b, i, h, d, seq, heads, hd)] * refOut[qi(b, i, h, d, seq, heads, hd)];
                    for (int j = 0; j <= i; j++) {
                        double dp = 0;
                        for (int d = 0; d < hd; d++) dp += dout[qi(b, i, h, d, seq, heads, hd)] * v[qi(b, j, kh, d, seq, kvHeads, hd)];
                        double ds = p[i][j] * (dp - di);
                        for (int d = 0; d < hd; d++) {
                            refDq[qi(b, i, h, d, seq, heads, hd)] += scale * ds * k[qi(b, j, kh, d, seq, kvHeads, hd)];
                            refDk[qi(b, j, kh, d, seq, kvHeads, hd)] += scale * ds * q[qi(b, i, h, d, seq, heads, hd)];
                            refDv[qi(b, j, kh, d, seq, kvHeads, hd)] += p[i][j] * dout[qi(b, i, h, d, seq, heads, hd)];
                        }
                    }
                }
            }
        }
        assertClose("attention out", outGot, refOut, tolerance(t));
        assertClose("attention dq", download(t, gq, qn), refDq, tolerance(t));
        assertClose("attention dk", download(t, gk, kn), refDk, tolerance(t));
        assertClose("attention dv", download(t, gv, kn), refDv, tolerance(t));
        free(dq, dk, dv, dOut, out, lse, gq, gk, gv, delta, partials);
    }

    private static int qi(int b, int s, int h, int d, int seq, int heads, int hd) {
        return ((b * seq + s) * heads + h) * hd + d;
    }
}
