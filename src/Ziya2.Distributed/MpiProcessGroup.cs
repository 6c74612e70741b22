using System.Runtime.InteropServices;

namespace Ziya2.Distributed;

/// <summary>
/// MPI_COMM_WORLD through MPICH's C ABI (<c>libmpich.so.12</c>: Debian's mpich, and the MPICH family — Intel MPI,
/// MVAPICH, Cray MPICH — whose handles are the same integers). A dozen functions bound directly rather than through
/// MPI.NET, whose Linux use needs a remapped <c>msmpi.dll</c> and falls back to BinaryFormatter for anything not
/// blittable (notes/scale-out.md §3.2). Open MPI's ABI (pointer handles) is not this one. MPI is initialised once per
/// process (thread level serialized: calls may come from different threads, never at once) and finalised at exit.
/// </summary>
public sealed partial class MpiProcessGroup : IProcessGroup
{
    const string Library = "libmpich.so.12";
    // mpi.h (MPICH 4.0): handles are ints.
    const int CommWorld = 0x44000000, Byte = 0x4c00010d, Float = 0x4c00040a, Double = 0x4c00080b, Sum = 0x58000003, Max = 0x58000001;
    const int ThreadSerialized = 2;
    static readonly nint InPlace = -1;
    // Reductions and broadcasts go in buckets of this many elements (16 MB of floats): counts are C ints, and MPICH's
    // shared-memory path is far faster on buckets than on one huge message (2 ranks, 100 M floats: 1.3 s in one call,
    // 0.1 s in 4 M-float buckets, measured with a C program against the same libmpich).
    const int Chunk = 1 << 22;

    [LibraryImport(Library)] private static partial int MPI_Initialized(out int flag);
    [LibraryImport(Library)] private static partial int MPI_Init_thread(nint argc, nint argv, int required, out int provided);
    [LibraryImport(Library)] private static partial int MPI_Finalize();
    [LibraryImport(Library)] private static partial int MPI_Comm_rank(int comm, out int rank);
    [LibraryImport(Library)] private static partial int MPI_Comm_size(int comm, out int size);
    [LibraryImport(Library)] private static unsafe partial int MPI_Allreduce(void* send, void* receive, int count, int type, int op, int comm);
    [LibraryImport(Library)] private static unsafe partial int MPI_Bcast(void* buffer, int count, int type, int root, int comm);
    [LibraryImport(Library)] private static unsafe partial int MPI_Reduce_scatter_block(void* send, void* receive, int count, int type, int op, int comm);
    [LibraryImport(Library)] private static unsafe partial int MPI_Allgather(void* send, int sendCount, int sendType, void* receive, int receiveCount, int receiveType, int comm);
    [LibraryImport(Library)] private static partial int MPI_Ibarrier(int comm, out int request);
    [LibraryImport(Library)] private static partial int MPI_Test(ref int request, out int flag, nint status);
    [LibraryImport(Library)] private static partial int MPI_Abort(int comm, int errorCode);
    static readonly nint StatusIgnore = 1;   // MPI_STATUS_IGNORE in MPICH's mpi.h

    MpiProcessGroup(int rank, int size, int localRank) => (Rank, WorldSize, LocalRank) = (rank, size, localRank);

    public int Rank { get; }
    public int WorldSize { get; }
    public int LocalRank { get; }

    /// <summary>
    /// Initialises MPI (once) and returns MPI_COMM_WORLD; a missing MPICH library is an error that says what to install,
    /// and an MPI that sees another job than the launcher describes (another MPI's launcher) is refused.
    /// </summary>
    internal static MpiProcessGroup Start(LaunchEnvironment launch)
    {
        try
        {
            Check(MPI_Initialized(out var initialized), "MPI_Initialized");
            if (initialized == 0)
            {
                Check(MPI_Init_thread(0, 0, ThreadSerialized, out var provided), "MPI_Init_thread");
                if (provided < ThreadSerialized) throw new InvalidOperationException($"MPI provides thread level {provided}; training needs {ThreadSerialized} (serialized)");
                AppDomain.CurrentDomain.ProcessExit += (_, _) => MPI_Finalize();
            }
        }
        catch (DllNotFoundException e)
        {
            throw new InvalidOperationException($"this process was started as {launch}, but {Library} cannot be loaded ({e.Message}); install MPICH (Debian: apt-get install mpich)", e);
        }
        Check(MPI_Comm_rank(CommWorld, out var rank), "MPI_Comm_rank");
        Check(MPI_Comm_size(CommWorld, out var size), "MPI_Comm_size");
        if (size != launch.WorldSize || rank != launch.Rank)
            throw new InvalidOperationException($"{launch.Launcher} started this process as rank {launch.Rank} of {launch.WorldSize}, but MPI ({Library}) sees rank {rank} of {size}: " +
                "the launcher is not MPICH's (use MPICH's mpiexec, or srun --mpi=pmi2)");
        return new MpiProcessGroup(rank, size, launch.LocalRank);
    }

    static void Check(int code, string call)
    {
        if (code != 0) throw new InvalidOperationException($"{call} failed with MPI error {code}");
    }

    public unsafe void AllReduceSum(Span<float> values)
    {
        fixed (float* p = values) AllReduce((byte*)p, values.Length, sizeof(float), Float, Sum);
    }

    public unsafe void AllReduceSum(Span<double> values)
    {
        fixed (double* p = values) AllReduce((byte*)p, values.Length, sizeof(double), Double, Sum);
    }

    public unsafe void AllReduceMax(Span<double> values)
    {
        fixed (double* p = values) AllReduce((byte*)p, values.Length, sizeof(double), Double, Max);
    }

    /// <summary>In place, bucket by bucket: <paramref name="count"/> elements of <paramref name="size"/> bytes at <paramref name="values"/>.</summary>
    static unsafe void AllReduce(byte* values, int count, int size, int type, int op)
    {
        for (int at = 0; at < count; at += Chunk)
            Check(MPI_Allreduce((void*)InPlace, values + (long)at * size, Math.Min(Chunk, count - at), type, op, CommWorld), "MPI_Allreduce");
    }

    public unsafe void Broadcast(Span<byte> bytes, int root = 0)
    {
        fixed (byte* p = bytes)
            for (int at = 0; at < bytes.Length; at += Chunk)
                Check(MPI_Bcast(p + at, Math.Min(Chunk, bytes.Length - at), Byte, root, CommWorld), "MPI_Bcast");
    }

    /// <summary>In buckets too: bucket b of every rank's slice is packed side by side (one copy) and reduce-scattered.</summary>
    public unsafe void ReduceScatterSum(ReadOnlySpan<float> values, Span<float> slice)
    {
        if (values.Length != slice.Length * WorldSize) throw new ArgumentException($"reduce-scatter of {values.Length} values into slices of {slice.Length} over {WorldSize} ranks");
        int bucket = Math.Max(1, Chunk / WorldSize);
        var packed = new float[Math.Min(slice.Length, bucket) * WorldSize];
        for (int at = 0; at < slice.Length; at += bucket)
        {
            int n = Math.Min(bucket, slice.Length - at);
            for (int r = 0; r < WorldSize; r++) values.Slice(r * slice.Length + at, n).CopyTo(packed.AsSpan(r * n, n));
            fixed (float* v = packed) fixed (float* s = slice)
                Check(MPI_Reduce_scatter_block(v, s + at, n, Float, Sum, CommWorld), "MPI_Reduce_scatter_block");
        }
    }

    /// <summary>In buckets: bucket b of every rank's slice is gathered side by side, then unpacked into place.</summary>
    public unsafe void AllGather(ReadOnlySpan<float> slice, Span<float> values)
    {
        if (values.Length != slice.Length * WorldSize) throw new ArgumentException($"all-gather of slices of {slice.Length} into {values.Length} values over {WorldSize} ranks");
        int bucket = Math.Max(1, Chunk / WorldSize);
        var packed = new float[Math.Min(slice.Length, bucket) * WorldSize];
        for (int at = 0; at < slice.Length; at += bucket)
        {
            int n = Math.Min(bucket, slice.Length - at);
            fixed (float* s = slice) fixed (float* v = packed)
                Check(MPI_Allgather(s + at, n, Float, v, n, Float, CommWorld), "MPI_Allgather");
            for (int r = 0; r < WorldSize; r++) packed.AsSpan(r * n, n).CopyTo(values.Slice(r * slice.Length + at, n));
        }
    }

    /// <summary>
    /// A non-blocking barrier tested with growing sleeps (to 5 ms): MPICH's blocking calls spin on a core while they
    /// wait, which on a node with as many ranks as cores takes it from the rank everyone waits for.
    /// </summary>
    public void Barrier()
    {
        Check(MPI_Ibarrier(CommWorld, out var request), "MPI_Ibarrier");
        for (int wait = 0; ; wait = Math.Min(5, wait + 1))
        {
            Check(MPI_Test(ref request, out var done, StatusIgnore), "MPI_Test");
            if (done != 0) return;
            if (wait == 0) Thread.Yield(); else Thread.Sleep(wait);
        }
    }

    public void Abort(int exitCode)
    {
        MPI_Abort(CommWorld, exitCode);
        Environment.Exit(exitCode);   // MPI_Abort does not return; if an MPI ever did, this rank still ends
    }
}
