// MSBuild task (compiled by RoslynCodeTaskFactory, see Directory.Build.targets) that makes TorchSharp 0.107.0's
// native wrapper loadable on systems whose libstdc++ predates GCC 13 (Debian 12, Ubuntu 22.04).
//
// Why: libLibTorchSharp.so was linked with GCC >= 13, whose <iostream> emits an *unreferenced* undefined symbol
// `std::ios_base_library_init()@GLIBCXX_3.4.32` only to force a dependency on the new libstdc++. glibc refuses to
// load a library whose version need is missing, and TorchSharp turns that into a misleading "no reference to
// libtorch" error. Because no relocation uses the symbol, it is enough to (1) mark the version need weak
// (VER_FLG_WEAK: the loader then skips it), (2) make the symbol unversioned and (3) weak. All three are in-place
// byte edits, so no patchelf, shim library or compiler is needed. The task refuses to patch if any relocation
// does use a symbol of a missing version, because then this edit would only move the failure to run time.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class PatchLibTorchSharpGlibcxx : Task
{
    /// <summary>Directories that may hold libLibTorchSharp.so (build output, publish output).</summary>
    [Required] public string[] Directories { get; set; } = Array.Empty<string>();

    /// <summary>Optional explicit libstdc++ to compare against (tests); default: the system's.</summary>
    public string SystemLibStdCxx { get; set; } = "";

    public override bool Execute()
    {
        string? libstdcxx = FindSystemLibStdCxx();
        if (libstdcxx is null) { Log.LogMessage(MessageImportance.Low, "No system libstdc++.so.6 found; TorchSharp patch skipped."); return true; }
        byte[] systemLib = File.ReadAllBytes(libstdcxx);
        foreach (string dir in Directories)
        {
            string lib = Path.Combine(dir, "libLibTorchSharp.so");
            if (!File.Exists(lib)) continue;
            try
            {
                string result = ElfVersionPatcher.Patch(lib, v => Contains(systemLib, Encoding.ASCII.GetBytes(v + "\0")));
                Log.LogMessage(MessageImportance.Normal, $"{lib}: {result}");
            }
            catch (Exception e)
            {
                Log.LogError($"Cannot make {lib} loadable with {libstdcxx}: {e.Message}");
                return false;
            }
        }
        return !Log.HasLoggedErrors;
    }

    string? FindSystemLibStdCxx()
    {
        if (SystemLibStdCxx.Length > 0) return SystemLibStdCxx;
        foreach (string p in new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
                                     "/usr/lib64/libstdc++.so.6", "/usr/lib/aarch64-linux-gnu/libstdc++.so.6", "/usr/lib/libstdc++.so.6" })
            if (File.Exists(p)) return p;
        return null;
    }

    static bool Contains(byte[] haystack, byte[] needle)
    {
        for (int i = Array.IndexOf(haystack, needle[0]); i >= 0 && i <= haystack.Length - needle.Length; i = Array.IndexOf(haystack, needle[0], i + 1))
        {
            int k = 1;
            while (k < needle.Length && haystack[i + k] == needle[k]) k++;
            if (k == needle.Length) return true;
        }
        return false;
    }
}

/// <summary>Minimal ELF64 little-endian editor for GNU symbol versioning.</summary>
public static class ElfVersionPatcher
{
    const uint SHT_RELA = 4, SHT_DYNSYM = 11, SHT_GNU_verneed = 0x6ffffffe, SHT_GNU_versym = 0x6fffffff;
    const ushort VER_FLG_WEAK = 0x2, VER_NDX_GLOBAL = 1;
    const byte STB_WEAK = 2;

    // Plain struct: the task compiles against MSBuild's reference set, which lacks init-only support.
    struct Section
    {
        public uint Type, Link, Info; public ulong Offset, Size, EntSize;
        public Section(uint type, ulong offset, ulong size, uint link, uint info, ulong entSize)
        { Type = type; Offset = offset; Size = size; Link = link; Info = info; EntSize = entSize; }
    }

    /// <summary>Weakens every libstdc++ version need that <paramref name="systemHasVersion"/> rejects. Idempotent.</summary>
    public static string Patch(string path, Func<string, bool> systemHasVersion)
    {
        byte[] d = File.ReadAllBytes(path);
        if (d.Length < 64 || d[0] != 0x7f || d[1] != (byte)'E' || d[2] != (byte)'L' || d[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (d[4] != 2 || d[5] != 1) throw new InvalidDataException("only ELF64 little-endian is supported");

        ulong shoff = U64(d, 0x28); ushort shentsize = U16(d, 0x3A), shnum = U16(d, 0x3C);
        var secs = new Section[shnum];
        for (int i = 0; i < shnum; i++)
        {
            int b = checked((int)(shoff + (ulong)(i * shentsize)));
            secs[i] = new Section(U32(d, b + 4), U64(d, b + 24), U64(d, b + 32), U32(d, b + 40), U32(d, b + 44), U64(d, b + 56));
        }

        var dirty = new List<int>();
        // 1. Version needs of libstdc++ that the system cannot satisfy.
        var missing = new Dictionary<ushort, string>();
        int alreadyWeak = 0;
        foreach (var s in secs)
        {
            if (s.Type != SHT_GNU_verneed) continue;
            ulong strtab = secs[s.Link].Offset, p = s.Offset;
            for (uint n = 0; n < s.Info; n++)
            {
                ushort cnt = U16(d, (int)p + 2); uint file = U32(d, (int)p + 4), aux = U32(d, (int)p + 8), next = U32(d, (int)p + 12);
                string fileName = Str(d, strtab + file);
                ulong a = p + aux;
                for (int k = 0; k < cnt; k++)
                {
                    ushort flags = U16(d, (int)a + 4), other = U16(d, (int)a + 6); uint name = U32(d, (int)a + 8), anext = U32(d, (int)a + 12);
                    string version = Str(d, strtab + name);
                    if (fileName.StartsWith("libstdc++", StringComparison.Ordinal) && !systemHasVersion(version))
                    {
                        if ((flags & VER_FLG_WEAK) != 0) alreadyWeak++;
                        else { W16(d, (int)a + 4, (ushort)(flags | VER_FLG_WEAK), dirty); missing[other] = version; }
                    }
                    a += anext;
                }
                p += next;
            }
        }
        if (missing.Count == 0)
            return alreadyWeak > 0 ? "already patched" : "system libstdc++ satisfies every version need; nothing to do";

        // 2. Symbols bound to those versions: must be unreferenced undefined symbols; make them unversioned + weak.
        int dynsymIdx = Array.FindIndex(secs, s => s.Type == SHT_DYNSYM);
        int versymIdx = Array.FindIndex(secs, s => s.Type == SHT_GNU_versym);
        if (dynsymIdx < 0 || versymIdx < 0) throw new InvalidDataException("no .dynsym/.gnu.version section");
        var dynsym = secs[dynsymIdx]; var versym = secs[versymIdx];
        var relocated = new HashSet<ulong>();
        foreach (var s in secs)
            if (s.Type == SHT_RELA && s.Link == dynsymIdx)
                for (ulong o = s.Offset; o < s.Offset + s.Size; o += s.EntSize) relocated.Add(U64(d, (int)o + 8) >> 32);

        ulong strtabSym = secs[dynsym.Link].Offset;
        var changed = new List<string>();
        ulong count = dynsym.Size / dynsym.EntSize;
        for (ulong i = 0; i < count; i++)
        {
            int vo = checked((int)(versym.Offset + i * 2));
            ushort ver = (ushort)(U16(d, vo) & 0x7fff);
            if (!missing.TryGetValue(ver, out string? version)) continue;
            int so = checked((int)(dynsym.Offset + i * dynsym.EntSize));
            string name = Str(d, strtabSym + U32(d, so));
            if (U16(d, so + 6) != 0) throw new InvalidDataException($"{name} is defined, not imported, at {version}");
            if (relocated.Contains(i))
                throw new InvalidDataException($"{name}@{version} is used by a relocation; the system libstdc++ lacks {version}, install a newer one");
            W16(d, vo, VER_NDX_GLOBAL, dirty);
            d[so + 4] = (byte)((STB_WEAK << 4) | (d[so + 4] & 0xf)); dirty.Add(so + 4);
            changed.Add($"{name}@{version}");
        }

        // Only a few flag bytes change, so rewrite them in place: the file keeps its inode and mode, and an
        // interrupted build leaves at worst an unpatched copy that the next build's copy step replaces.
        using (var f = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            foreach (int o in dirty) { f.Position = o; f.WriteByte(d[o]); }
        }
        return $"weakened {string.Join(", ", missing.Values)}; unversioned+weak: {(changed.Count == 0 ? "(no symbols)" : string.Join(", ", changed))}";
    }

    static ushort U16(byte[] d, int o) => BitConverter.ToUInt16(d, o);
    static uint U32(byte[] d, int o) => BitConverter.ToUInt32(d, o);
    static ulong U64(byte[] d, int o) => BitConverter.ToUInt64(d, o);
    static void W16(byte[] d, int o, ushort v, List<int> dirty) { d[o] = (byte)v; d[o + 1] = (byte)(v >> 8); dirty.Add(o); dirty.Add(o + 1); }
    static string Str(byte[] d, ulong o) { int s = checked((int)o), e = Array.IndexOf(d, (byte)0, s); return Encoding.ASCII.GetString(d, s, e - s); }
}
