namespace Ziya2.DataFactory;

/// <summary>Writes a text file under a temporary name and renames it into place, so readers never see half of it.</summary>
static class AtomicText
{
    public static void Write(string path, string text)
    {
        File.WriteAllText(path + ".tmp", text);
        File.Move(path + ".tmp", path, overwrite: true);
    }
}
