using System.Runtime.InteropServices;

namespace Ziya2.Training.Distributed;

/// <summary>
/// NCCL's C API (nccl.h, NCCL 2.x), bound at run time: <c>$ZIYA2_NCCL_LIBRARY</c> if set, else <c>libnccl.so.2</c> from
/// the loader's path, else the NCCL linked into an already loaded <c>libtorch_cuda.so</c>. Loaded lazily, so machines
/// without NCCL never touch it; a missing library is an error that says where it was looked for. The same binding
/// vLLM's <c>pynccl</c> uses (ctypes over <c>libnccl.so.2</c>), written against the header's signatures: handles
/// are pointers, the unique id a 128-byte struct passed by value, streams <c>cudaStream_t</c> (0 = the legacy default
/// stream, which libtorch's kernels use when nobody picks a stream).
/// </summary>
internal static unsafe class Nccl
{
    public const int Uint8 = 1, Float32 = 7;   // ncclDataType_t
    public const int Sum = 0;                   // ncclRedOp_t

    [StructLayout(LayoutKind.Sequential)]
    public struct UniqueId { public fixed byte Internal[128]; }

    static readonly Lazy<Api> Loaded = new(() => Load(Environment.GetEnvironmentVariable("ZIYA2_NCCL_LIBRARY")));
    public static Api Functions => Loaded.Value;

    /// <summary>
    /// A communicator of <paramref name="group"/>'s ranks, bootstrapped as NCCL documents it: rank 0 makes the unique id,
    /// the group (MPI) broadcasts its 128 bytes, every rank joins with its rank. The current CUDA device must be this
    /// rank's already.
    /// </summary>
    public static nint InitCommunicator(Api nccl, Ziya2.Distributed.IProcessGroup group)
    {
        var id = new UniqueId();
        if (group.Rank == 0) nccl.Check(nccl.GetUniqueId(&id), "ncclGetUniqueId");
        group.Broadcast(new Span<byte>(id.Internal, 128));
        nint comm;
        nccl.Check(nccl.CommInitRank(&comm, group.WorldSize, id, group.Rank), "ncclCommInitRank");
        return comm;
    }

    public sealed class Api
    {
        public required string Library { get; init; }
        public required delegate* unmanaged<int*, int> GetVersion { get; init; }
        public required delegate* unmanaged<UniqueId*, int> GetUniqueId { get; init; }
        public required delegate* unmanaged<nint*, int, UniqueId, int, int> CommInitRank { get; init; }
        public required delegate* unmanaged<nint, int> CommDestroy { get; init; }
        public required delegate* unmanaged<nint, int> CommAbort { get; init; }
        public required delegate* unmanaged<int, nint> GetErrorString { get; init; }
        public required delegate* unmanaged<nint, nint, nuint, int, int, nint, nint, int> AllReduce { get; init; }
        public required delegate* unmanaged<nint, nint, nuint, int, int, nint, nint, int> ReduceScatter { get; init; }
        public required delegate* unmanaged<nint, nint, nuint, int, nint, nint, int> AllGather { get; init; }
        public required delegate* unmanaged<nint, nint, nuint, int, int, nint, nint, int> Broadcast { get; init; }

        public void Check(int result, string call)
        {
            if (result != 0) throw new InvalidOperationException($"{call} failed: NCCL error {result} ({Marshal.PtrToStringUTF8(GetErrorString(result))})");
        }
    }

    /// <summary>NCCL from <paramref name="library"/> when given, else from the loader's path or libtorch_cuda.so.</summary>
    public static Api Load(string? library)
    {
        var tried = new List<string>();
        nint handle = 0;
        foreach (var candidate in library is { Length: > 0 } ? [library] : new[] { "libnccl.so.2", "libtorch_cuda.so" })
        {
            if (string.IsNullOrEmpty(candidate)) continue;
            tried.Add(candidate);
            if (NativeLibrary.TryLoad(candidate, out handle) && NativeLibrary.TryGetExport(handle, "ncclGetUniqueId", out _)) break;
            handle = 0;
        }
        if (handle == 0)
            throw new InvalidOperationException($"NCCL cannot be loaded (tried {string.Join(", ", tried)}): install NCCL 2 (libnccl.so.2) on the GPU nodes, " +
                "point ZIYA2_NCCL_LIBRARY at it, or use collectives = \"mpi\"");
        nint F(string name) => NativeLibrary.TryGetExport(handle, name, out var f) ? f : throw new InvalidOperationException($"{tried[^1]}: no {name} (NCCL older than 2.x?)");
        return new Api
        {
            Library = tried[^1],
            GetVersion = (delegate* unmanaged<int*, int>)F("ncclGetVersion"),
            GetUniqueId = (delegate* unmanaged<UniqueId*, int>)F("ncclGetUniqueId"),
            CommInitRank = (delegate* unmanaged<nint*, int, UniqueId, int, int>)F("ncclCommInitRank"),
            CommDestroy = (delegate* unmanaged<nint, int>)F("ncclCommDestroy"),
            CommAbort = (delegate* unmanaged<nint, int>)F("ncclCommAbort"),
            GetErrorString = (delegate* unmanaged<int, nint>)F("ncclGetErrorString"),
            AllReduce = (delegate* unmanaged<nint, nint, nuint, int, int, nint, nint, int>)F("ncclAllReduce"),
            ReduceScatter = (delegate* unmanaged<nint, nint, nuint, int, int, nint, nint, int>)F("ncclReduceScatter"),
            AllGather = (delegate* unmanaged<nint, nint, nuint, int, nint, nint, int>)F("ncclAllGather"),
            Broadcast = (delegate* unmanaged<nint, nint, nuint, int, int, nint, nint, int>)F("ncclBroadcast"),
        };
    }
}

/// <summary>
/// The one CUDA runtime call NCCL needs before a communicator is made: <c>cudaSetDevice</c> (NCCL binds a communicator
/// to the current device; TorchSharp has no call for it). From <c>libcudart.so.12</c>, which the CUDA libtorch package
/// ships, or <c>libcudart.so</c>.
/// </summary>
internal static unsafe class CudaRuntime
{
    public static void SetDevice(int device)
    {
        foreach (var name in new[] { "libcudart.so.12", "libcudart.so" })
            if (NativeLibrary.TryLoad(name, out var handle) && NativeLibrary.TryGetExport(handle, "cudaSetDevice", out var f))
            {
                int result = ((delegate* unmanaged<int, int>)f)(device);
                if (result != 0) throw new InvalidOperationException($"cudaSetDevice({device}) failed with CUDA error {result}");
                return;
            }
        throw new InvalidOperationException("the CUDA runtime (libcudart.so.12) cannot be loaded to select this rank's GPU for NCCL");
    }
}
