using Ziya2.Distributed;
using TorchSharp;
using static TorchSharp.torch;

namespace Ziya2.Training.Distributed;

/// <summary>
/// Tensor collectives with NCCL on CUDA tensors (one GPU per rank): the communicator is bootstrapped as NCCL documents
/// it — rank 0 makes the unique id, MPI broadcasts its 128 bytes, every rank joins with <c>ncclCommInitRank</c> on its
/// own device — and every call is issued on the default CUDA stream after the kernels that produced its input, which
/// the kernels that read its output then follow. Host work (losses, norms, barriers) stays on <see cref="Group"/>.
/// A rank that dies leaves NCCL waiting; the launcher ends the job (<c>srun --kill-on-bad-exit=1</c>, mpiexec does so
/// by default), as the launch script this engine writes asks.
/// </summary>
public sealed unsafe class NcclTensorCollectives : ITensorCollectives
{
    readonly Nccl.Api _nccl;
    nint _comm;

    NcclTensorCollectives(IProcessGroup group, Nccl.Api nccl, nint comm, Device device) => (Group, _nccl, _comm, Device) = (group, nccl, comm, device);

    public IProcessGroup Group { get; }
    public Device Device { get; }
    public string Backend => "nccl";
    public int BucketElements => 1 << 25;   // 128 MB of FP32: NCCL's bandwidth needs large messages

    /// <summary>A communicator over <paramref name="group"/>'s ranks on <paramref name="device"/> (this rank's GPU).</summary>
    public static NcclTensorCollectives Start(IProcessGroup group, Device device)
    {
        if (device.type != DeviceType.CUDA) throw new ArgumentException($"NCCL needs a CUDA device, not {device}");
        // Every rank loads NCCL before the id is exchanged, so a node without it fails alone rather than after rank 0 went ahead.
        Nccl.Api nccl;
        int failed = 0;
        string? why = null;
        try { nccl = Nccl.Functions; } catch (InvalidOperationException e) { nccl = null!; failed = 1; why = e.Message; }
        Span<double> anyFailed = [failed];
        group.AllReduceMax(anyFailed);
        if (anyFailed[0] > 0) throw new InvalidOperationException(why ?? "NCCL cannot be loaded on another rank (see its log)");

        CudaRuntime.SetDevice(device.index < 0 ? 0 : device.index);
        return new NcclTensorCollectives(group, nccl, Nccl.InitCommunicator(nccl, group), device);
    }

    void OnDevice(Tensor t, string what)
    {
        if (t.device_type != DeviceType.CUDA || t.device.index != Device.index) throw new ArgumentException($"{what}: NCCL works on {Device} tensors, not {t.device}");
    }

    public void AllReduceSum(Tensor values)
    {
        TensorCollectives.RequireFloat32(values, "all-reduce");
        OnDevice(values, "all-reduce");
        var p = TensorCollectives.DataPointer(values);
        _nccl.Check(_nccl.AllReduce(p, p, (nuint)values.numel(), Nccl.Float32, Nccl.Sum, _comm, 0), "ncclAllReduce");
    }

    public void ReduceScatterSum(Tensor values, Tensor slice)
    {
        TensorCollectives.RequireFloat32(values, "reduce-scatter");
        TensorCollectives.RequireFloat32(slice, "reduce-scatter");
        OnDevice(values, "reduce-scatter");
        OnDevice(slice, "reduce-scatter");
        if (values.numel() != slice.numel() * Group.WorldSize) throw new ArgumentException($"reduce-scatter of {values.numel()} values into slices of {slice.numel()} over {Group.WorldSize} ranks");
        _nccl.Check(_nccl.ReduceScatter(TensorCollectives.DataPointer(values), TensorCollectives.DataPointer(slice), (nuint)slice.numel(), Nccl.Float32, Nccl.Sum, _comm, 0), "ncclReduceScatter");
    }

    public void AllGather(Tensor slice, Tensor values)
    {
        TensorCollectives.RequireFloat32(values, "all-gather");
        TensorCollectives.RequireFloat32(slice, "all-gather");
        OnDevice(values, "all-gather");
        OnDevice(slice, "all-gather");
        if (values.numel() != slice.numel() * Group.WorldSize) throw new ArgumentException($"all-gather of slices of {slice.numel()} into {values.numel()} values over {Group.WorldSize} ranks");
        _nccl.Check(_nccl.AllGather(TensorCollectives.DataPointer(slice), TensorCollectives.DataPointer(values), (nuint)slice.numel(), Nccl.Float32, _comm, 0), "ncclAllGather");
    }

    public void Broadcast(Tensor values, int root = 0)
    {
        OnDevice(values, "broadcast");
        var p = TensorCollectives.DataPointer(values);
        _nccl.Check(_nccl.Broadcast(p, p, (nuint)(values.numel() * values.ElementSize), Nccl.Uint8, root, _comm, 0), "ncclBroadcast");
    }

    public void Dispose()
    {
        if (_comm == 0) return;
        _nccl.CommDestroy(_comm);
        _comm = 0;
    }
}
