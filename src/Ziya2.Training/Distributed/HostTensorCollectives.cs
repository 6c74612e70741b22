using System.Runtime.InteropServices;
using Ziya2.Distributed;
using TorchSharp;
using static TorchSharp.torch;

namespace Ziya2.Training.Distributed;

/// <summary>
/// Tensor collectives through <see cref="IProcessGroup"/> (MPI) over host memory: a contiguous CPU tensor is handed to
/// MPI where it lies; any other (a CUDA tensor, with collectives = "mpi") is copied to the host and back.
/// </summary>
public sealed class HostTensorCollectives(IProcessGroup group) : ITensorCollectives
{
    public IProcessGroup Group => group;
    public string Backend => group.WorldSize == 1 ? "single" : "mpi";

    // MPICH's shared-memory path is fastest on buckets of a few million values (MpiProcessGroup cuts at 4 M too).
    public int BucketElements => 1 << 22;

    public void AllReduceSum(Tensor values)
    {
        TensorCollectives.RequireFloat32(values, "all-reduce");
        using var _ = NewDisposeScope();
        var host = OnHost(values);
        group.AllReduceSum(Floats(host));
        Back(values, host);
    }

    public void ReduceScatterSum(Tensor values, Tensor slice) => Exchange(values, slice, "reduce-scatter", group.ReduceScatterSum);

    public void AllGather(Tensor slice, Tensor values) => Exchange(slice, values, "all-gather", group.AllGather);

    delegate void SpanExchange(ReadOnlySpan<float> input, Span<float> output);

    /// <summary>A collective from one FP32 tensor into another, each handed to MPI in host memory.</summary>
    static void Exchange(Tensor input, Tensor output, string what, SpanExchange exchange)
    {
        TensorCollectives.RequireFloat32(input, what);
        TensorCollectives.RequireFloat32(output, what);
        using var _ = NewDisposeScope();
        var (from, to) = (OnHost(input), OnHost(output));
        exchange(Floats(from), Floats(to));
        Back(output, to);
    }

    public void Broadcast(Tensor values, int root = 0)
    {
        using var _ = NewDisposeScope();
        var host = OnHost(values);
        group.Broadcast(host.bytes, root);
        Back(values, host);
    }

    static Span<float> Floats(Tensor t) => MemoryMarshal.Cast<byte, float>(t.bytes);

    /// <summary><paramref name="t"/> itself when MPI can use its memory, else a host copy.</summary>
    static Tensor OnHost(Tensor t)
    {
        if (t.device_type == DeviceType.CPU && t.is_contiguous()) return t;
        using var _ = no_grad();
        return t.cpu().contiguous();
    }

    static void Back(Tensor t, Tensor host)
    {
        if (ReferenceEquals(t, host)) return;
        using var _ = no_grad();
        t.copy_(host);
    }

    public void Dispose() { }
}
