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

    public void ReduceScatterSum(Tensor values, Tensor slice)
    {
        TensorCollectives.RequireFloat32(values, "reduce-scatter");
        TensorCollectives.RequireFloat32(slice, "reduce-scatter");
        using var _ = NewDisposeScope();
        var (input, output) = (OnHost(values), OnHost(slice));
        group.ReduceScatterSum(Floats(input), Floats(output));
        Back(slice, output);
    }

    public void AllGather(Tensor slice, Tensor values)
    {
        TensorCollectives.RequireFloat32(values, "all-gather");
        TensorCollectives.RequireFloat32(slice, "all-gather");
        using var _ = NewDisposeScope();
        var (input, output) = (OnHost(slice), OnHost(values));
        group.AllGather(Floats(input), Floats(output));
        Back(values, output);
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
