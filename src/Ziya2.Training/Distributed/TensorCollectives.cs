using System.Runtime.InteropServices;
using Ziya2.Distributed;
using TorchSharp;
using static TorchSharp.torch;

namespace Ziya2.Training.Distributed;

/// <summary>
/// Collectives over tensors where they live — what the data-parallel engine calls. Reductions take contiguous FP32
/// tensors (gradients are communicated in FP32 whatever the model's dtype); <see cref="Broadcast"/> takes any dtype.
/// Every rank calls every collective in the same order with tensors of the same shape. Two backends:
/// <see cref="HostTensorCollectives"/> (MPI over host memory; CUDA tensors are staged through the host) and
/// <see cref="NcclTensorCollectives"/> (NCCL on the GPU's memory, bootstrapped over MPI).
/// </summary>
public interface ITensorCollectives : IDisposable
{
    /// <summary>The job's processes (host collectives: norms, losses, barriers).</summary>
    IProcessGroup Group { get; }

    /// <summary>"single", "mpi" or "nccl".</summary>
    string Backend { get; }

    /// <summary>Elements a bucket of this backend should hold: large enough to amortise a call, small enough to keep buffers small.</summary>
    int BucketElements { get; }

    /// <summary>Element-wise sum over all ranks, in place.</summary>
    void AllReduceSum(Tensor values);

    /// <summary>Sums <paramref name="values"/> (WorldSize equal slices) over all ranks; slice <c>Rank</c> of the sum into <paramref name="slice"/>.</summary>
    void ReduceScatterSum(Tensor values, Tensor slice);

    /// <summary>Every rank's <paramref name="slice"/>, in rank order, into <paramref name="values"/>.</summary>
    void AllGather(Tensor slice, Tensor values);

    /// <summary>Rank <paramref name="root"/>'s values into every rank's tensor, in place.</summary>
    void Broadcast(Tensor values, int root = 0);
}

/// <summary>Chooses the collectives for a job and a device.</summary>
public static class TensorCollectives
{
    /// <summary>
    /// <paramref name="backend"/> <c>auto</c>: NCCL when the tensors are on a CUDA device and the job has more than
    /// one rank, MPI otherwise; <c>mpi</c> or <c>nccl</c> to force one (<c>nccl</c> needs CUDA tensors).
    /// </summary>
    public static ITensorCollectives For(IProcessGroup group, Device device, string backend = "auto")
    {
        if (backend is not ("auto" or "mpi" or "nccl")) throw new ArgumentException($"collectives '{backend}' is not auto, mpi or nccl");
        if (group.WorldSize == 1 && backend != "nccl") return new HostTensorCollectives(group);
        return backend switch
        {
            "auto" => device.type == DeviceType.CUDA ? NcclTensorCollectives.Start(group, device) : new HostTensorCollectives(group),
            "mpi" => new HostTensorCollectives(group),
            "nccl" => device.type == DeviceType.CUDA ? NcclTensorCollectives.Start(group, device)
                : throw new InvalidOperationException($"collectives = \"nccl\" needs the model on a CUDA device; it is on {device}"),
            _ => throw new ArgumentException($"collectives '{backend}' is not auto, mpi or nccl"),
        };
    }

    static readonly Dictionary<(IProcessGroup, string, string), ITensorCollectives> Cache = [];

    /// <summary>
    /// <see cref="For"/>, once per job, device and backend: the trainer and a sharded optimizer share one NCCL
    /// communicator. They live as long as the process.
    /// </summary>
    public static ITensorCollectives Shared(IProcessGroup group, Device device, string backend = "auto")
    {
        lock (Cache)
        {
            var key = (group, device.ToString(), backend);
            if (!Cache.TryGetValue(key, out var collectives)) Cache[key] = collectives = For(group, device, backend);
            return collectives;
        }
    }

    [DllImport("LibTorchSharp")] static extern nint THSTensor_data(nint tensor);

    /// <summary>
    /// The address of <paramref name="t"/>'s first element (a device address for a CUDA tensor): libtorch's
    /// <c>data_ptr()</c> through TorchSharp's native export, which its managed API keeps internal.
    /// </summary>
    public static nint DataPointer(Tensor t)
    {
        if (!t.is_contiguous()) throw new ArgumentException("collectives need contiguous tensors");
        return THSTensor_data(t.Handle);
    }

    internal static void RequireFloat32(Tensor t, string what)
    {
        if (t.dtype != ScalarType.Float32) throw new ArgumentException($"{what}: collectives reduce FP32 tensors, not {t.dtype}");
    }
}
