namespace Ziya2.DataFactory;

/// <summary>
/// Writes a file under a temporary name and renames it into place, so readers never see half of it. The temporary name
/// is unique to the process: tasks of a cluster run write into one shared directory.
/// </summary>
static class AtomicFile
{
    public static void Write(string path, string text) => Write(path, writeTo => File.WriteAllText(writeTo, text));

    public static void Write(string path, byte[] bytes) => Write(path, writeTo => File.WriteAllBytes(writeTo, bytes));

    static void Write(string path, Action<string> write)
    {
        var tmp = $"{path}.{Environment.ProcessId}-{Guid.NewGuid():N}.tmp";
        try
        {
            write(tmp);
            File.Move(tmp, path, overwrite: true);
        }
        finally { if (File.Exists(tmp)) File.Delete(tmp); }
    }
}
