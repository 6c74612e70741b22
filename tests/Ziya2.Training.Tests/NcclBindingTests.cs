using System.Diagnostics;
using Ziya2.Distributed;
using Ziya2.Training.Distributed;
using static TorchSharp.torch;

namespace Ziya2.Training.Tests;

/// <summary>
/// The NCCL binding where no GPU and no NCCL exist: its calls go to a stand-in library with nccl.h's signatures
/// (tests/fixtures/nccl/nccl_abi_probe.c) that checks what it is given as the real one reads it and answers with data
/// that shows it; and without NCCL or CUDA the engine refuses with errors that say what is missing. NCCL on GPUs
/// itself is verified only where one is lent (docs/training.md, "GPUs").
/// </summary>
public sealed class NcclBindingTests : IDisposable
{
    readonly TempDir _tmp = new();

    string BuildProbe()
    {
        var source = Path.Combine(AppContext.BaseDirectory, "fixtures", "nccl", "nccl_abi_probe.c");
        var library = _tmp.Combine("libnccl-probe.so");
        var cc = Process.Start(new ProcessStartInfo("cc", ["-shared", "-fPIC", "-O1", "-o", library, source]) { RedirectStandardError = true })!;
        var errors = cc.StandardError.ReadToEnd();
        cc.WaitForExit();
        Assert.True(cc.ExitCode == 0, "cc: " + errors);
        return library;
    }

    [Fact]
    public unsafe void Every_call_reaches_a_library_with_nccl_h_signatures_as_it_reads_them()
    {
        var nccl = Nccl.Load(BuildProbe());
        int version;
        nccl.Check(nccl.GetVersion(&version), "ncclGetVersion");
        Assert.Equal(22105, version);

        // The bootstrap: the 128-byte id made on rank 0, passed by value into ncclCommInitRank (the probe checks every byte).
        var comm = Nccl.InitCommunicator(nccl, SingleProcessGroup.Instance);
        Assert.NotEqual(0, comm);

        using var values = tensor(new float[] { 1, 2, 3, 4, 5, 6 });
        var p = TensorCollectives.DataPointer(values);
        nccl.Check(nccl.AllReduce(p, p, (nuint)values.numel(), Nccl.Float32, Nccl.Sum, comm, 0), "ncclAllReduce");
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, values.data<float>().ToArray());   // one rank: the sum is itself
        using var slice = zeros(6);
        nccl.Check(nccl.ReduceScatter(p, TensorCollectives.DataPointer(slice), 6, Nccl.Float32, Nccl.Sum, comm, 0), "ncclReduceScatter");
        Assert.Equal(values.data<float>().ToArray(), slice.data<float>().ToArray());
        using var gathered = zeros(6);
        nccl.Check(nccl.AllGather(TensorCollectives.DataPointer(slice), TensorCollectives.DataPointer(gathered), 6, Nccl.Float32, comm, 0), "ncclAllGather");
        Assert.Equal(values.data<float>().ToArray(), gathered.data<float>().ToArray());
        using var bytes = tensor(new byte[] { 0x0F, 7, 9 });
        var b = TensorCollectives.DataPointer(bytes);
        nccl.Check(nccl.Broadcast(b, b, 3, Nccl.Uint8, 0, comm, 0), "ncclBroadcast");
        Assert.Equal(new byte[] { 0xF0, 7, 9 }, bytes.data<byte>().ToArray());   // the probe inverts the first byte: it ran

        // A wrong argument comes back as NCCL's error, named and explained.
        var wrong = Assert.Throws<InvalidOperationException>(() => nccl.Check(nccl.AllReduce(p, p, 6, Nccl.Uint8, Nccl.Sum, comm, 0), "ncclAllReduce"));
        Assert.Equal("ncclAllReduce failed: NCCL error 4 (invalid argument)", wrong.Message);
        nccl.Check(nccl.CommDestroy(comm), "ncclCommDestroy");
    }

    [Fact]
    public void Without_nccl_or_cuda_the_engine_says_what_is_missing()
    {
        var missing = Assert.Throws<InvalidOperationException>(() => Nccl.Load(_tmp.Combine("no-such-libnccl.so.2")));
        Assert.Contains("NCCL cannot be loaded (tried", missing.Message);
        Assert.Contains("ZIYA2_NCCL_LIBRARY", missing.Message);
        var cpu = Assert.Throws<InvalidOperationException>(() => TensorCollectives.For(SingleProcessGroup.Instance, CPU, "nccl"));
        Assert.Contains("collectives = \"nccl\" needs the model on a CUDA device", cpu.Message);
        Assert.Throws<ArgumentException>(() => NcclTensorCollectives.Start(SingleProcessGroup.Instance, CPU));
        // auto: MPI over host memory for a model on the CPU, whatever the world size.
        Assert.Equal("single", TensorCollectives.For(SingleProcessGroup.Instance, CPU).Backend);
        Assert.Throws<ArgumentException>(() => TensorCollectives.For(SingleProcessGroup.Instance, CPU, "gloo"));
    }

    public void Dispose() => _tmp.Dispose();
}
