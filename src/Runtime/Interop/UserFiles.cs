// UserFiles: opening the files a user names (checkpoints, images, outputs) with messages that name the file and the
// problem in plain words. NativeAOT builds strip the runtime's resource strings (UseSystemResourceKeys, for size), so
// the IO exceptions' own messages read "IO_FileNotFound_FileName, /x.png" there; these checks come first and say it.
// The exception types stay the usual ones (FileNotFoundException, DirectoryNotFoundException,
// UnauthorizedAccessException, IOException), so callers that catch them by type keep working.
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace AotVit.Runtime.Interop;

/// <summary>Opens and reads user-named files with clear errors, and reads bounded amounts of data.</summary>
public static class UserFiles
{
    /// <summary>
    /// Opens an existing file for reading. <paramref name="what"/> names it in messages ("checkpoint", "image file").
    /// </summary>
    /// <exception cref="FileNotFoundException">"{what} not found: {path}", with " (no such directory)" when a directory on
    /// the path is missing; "{what} path is empty" for an empty path (open("") is ENOENT too)</exception>
    /// <exception cref="IOException">"{what} '{path}' is a directory, not a file", or another I/O failure</exception>
    /// <exception cref="UnauthorizedAccessException">"{what} '{path}' cannot be read: permission denied"</exception>
    public static FileStream OpenRead(string path, string what, FileOptions options = FileOptions.None)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(what);
        if (path.Length == 0)
        {
            throw new FileNotFoundException($"{what} path is empty", path);
        }

        if (FileNames.HasEscapes(path))
        {
            return OpenEscaped(path, what);
        }

        if (Directory.Exists(path))
        {
            throw new IOException($"{what} '{path}' is a directory, not a file");
        }

        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, options);
        }
        catch (FileNotFoundException e)
        {
            throw new FileNotFoundException($"{what} not found: {path}{NotUtf8Hint(path)}", path, e);
        }
        catch (DirectoryNotFoundException e)
        {
            // The same type as a missing file in an existing directory: callers catch "not found" once.
            throw new FileNotFoundException($"{what} not found: {path} (no such directory){NotUtf8Hint(path)}", path, e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new UnauthorizedAccessException($"{what} '{path}' cannot be read: permission denied", e);
        }
        catch (PathTooLongException e)
        {
            throw new PathTooLongException($"{what} path is too long: {path}", e);
        }
        catch (IOException e) when (e.GetType() == typeof(IOException))
        {
            throw new IOException($"{what} '{path}' cannot be opened: {e.Message}", e);
        }
    }

    /// <summary>
    /// The path for a file name given as the file system's bytes (from C, or Python's <c>os.fsencode</c>): UTF-8, and a
    /// name that is not UTF-8 keeps each invalid byte as a lone surrogate U+DC80–U+DCFF (Python's surrogateescape), so that
    /// <see cref="OpenRead"/>, <c>ImageDecoder.Load</c> and the models' file methods open exactly that file.
    /// </summary>
    public static string PathFromBytes(ReadOnlySpan<byte> name) => FileNames.Decode(name);

    // A path holding escaped bytes (FileNames: a name on disk that is not UTF-8) is opened through its bytes, which the
    // FileStream constructor cannot do; same checks and messages as above.
    private static FileStream OpenEscaped(string path, string what)
    {
        if (LinuxFiles.KindOf(path) == LinuxFiles.PathKind.Directory)
        {
            throw new IOException($"{what} '{path}' is a directory, not a file");
        }

        int fd = LinuxFiles.OpenReadOnly(path, out int errno);
        if (fd < 0)
        {
            const int ENOENT = 2, EPERM = 1, EACCES = 13, ENOTDIR = 20, ENAMETOOLONG = 36;
            throw errno switch
            {
                ENOENT => new FileNotFoundException($"{what} not found: {path}", path),
                ENOTDIR => new FileNotFoundException($"{what} not found: {path} (no such directory)", path),
                EACCES or EPERM => new UnauthorizedAccessException($"{what} '{path}' cannot be read: permission denied"),
                ENAMETOOLONG => new PathTooLongException($"{what} path is too long: {path}"),
                _ => new IOException($"{what} '{path}' cannot be opened: {Marshal.GetPInvokeErrorMessage(errno)}"),
            };
        }

        return StreamOver(fd, FileAccess.Read, bufferSize: 1);
    }

    // A FileStream that owns the descriptor fd (closed if the stream cannot be made).
    private static FileStream StreamOver(int fd, FileAccess access, int bufferSize)
    {
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            return new FileStream(handle, access, bufferSize);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Directory.Exists, also for a path whose name is not UTF-8 (<see cref="FileNames"/>).</summary>
    internal static bool IsDirectory(string path) =>
        FileNames.HasEscapes(path) ? LinuxFiles.KindOf(path) == LinuxFiles.PathKind.Directory : Directory.Exists(path);

    /// <summary>File.Exists (something that is not a directory), also for a path whose name is not UTF-8.</summary>
    internal static bool IsFile(string path) =>
        FileNames.HasEscapes(path) ? LinuxFiles.KindOf(path) is LinuxFiles.PathKind.Regular or LinuxFiles.PathKind.Special : File.Exists(path);

    // .NET decodes file names (listings, argv) as UTF-8 and replaces each invalid byte with U+FFFD, so a file whose name
    // is in another encoding (Latin-1 "caf\xE9.jpg" from an old archive) is listed, then not found by that name.
    private static string NotUtf8Hint(string path) => path.Contains('\uFFFD')
        ? "; if the name on disk is not valid UTF-8 (shown with \uFFFD), .NET cannot open it: rename it to UTF-8 (convmv -f latin1 -t utf8)"
        : "";

    /// <summary>
    /// Reads the whole file at <paramref name="path"/>, but never more than <paramref name="maxBytes"/> + 1 bytes: returns
    /// null when the file holds more than <paramref name="maxBytes"/>, including endless ones such as /dev/zero (which
    /// report a length of 0) and pipes. Errors as <see cref="OpenRead"/>.
    /// </summary>
    public static byte[]? ReadAtMost(string path, string what, long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        using FileStream stream = OpenRead(path, what, FileOptions.SequentialScan);
        long length = stream.CanSeek ? stream.Length : 0;
        if (length > maxBytes)
        {
            return null;
        }

        // Chunks up to the limit into a buffer sized for a seekable file (a pipe, a device or a growing file grows it).
        using var buffer = new MemoryStream(length > 0 ? (int)length : 0);
        var chunk = new byte[81920];
        int read;
        while ((read = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, maxBytes + 1 - buffer.Length))) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > maxBytes)
            {
                return null;
            }
        }

        // A file read at the size it reported fills the buffer exactly: hand that array over instead of copying it.
        return buffer.Length == buffer.Capacity ? buffer.GetBuffer() : buffer.ToArray();
    }

    /// <summary>
    /// Creates (or truncates) <paramref name="path"/> for writing after <see cref="CheckOutputPath"/>; a refusal by the
    /// file system is reported in plain words naming <paramref name="what"/> and the path.
    /// </summary>
    /// <exception cref="UnauthorizedAccessException">"cannot write {what} '{path}': permission denied"</exception>
    /// <exception cref="IOException">"cannot create {what} '{path}': …", and <see cref="CheckOutputPath"/>'s errors</exception>
    public static FileStream Create(string path, string what, int bufferSize = 1 << 16) =>
        CreateAs(path, path, what, bufferSize);

    /// <summary><see cref="Create"/> for a temporary file written in place of <paramref name="target"/>: the messages
    /// name the target, which is the file the user asked for.</summary>
    internal static FileStream CreateAs(string path, string target, string what, int bufferSize)
    {
        CheckOutputPath(target, what);
        if (FileNames.HasEscapes(path))
        {
            return CreateEscaped(path, target, what, bufferSize);
        }

        try
        {
            return new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new UnauthorizedAccessException($"cannot write {what} '{target}': permission denied", e);
        }
        catch (FileNotFoundException e)
        {
            // ENOENT although the directory exists: a file system that does not take new files here (/proc, /sys).
            throw new IOException($"cannot create {what} '{target}': the file system does not allow a new file there", e);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new DirectoryNotFoundException($"cannot write {what} '{target}': no such directory", e);
        }
        catch (PathTooLongException e)
        {
            throw new PathTooLongException($"{what} path is too long: {target}", e);
        }
        catch (IOException e) when (e.GetType() == typeof(IOException))
        {
            throw new IOException($"cannot create {what} '{target}': {e.Message}", e);
        }
    }

    // CreateAs for a name that is not UTF-8 (FileNames): created through its bytes, with the messages above.
    private static FileStream CreateEscaped(string path, string target, string what, int bufferSize)
    {
        int fd = LinuxFiles.CreateWriteOnly(path, out int errno);
        if (fd < 0)
        {
            const int EPERM = 1, ENOENT = 2, EACCES = 13, ENAMETOOLONG = 36;
            throw errno switch
            {
                EACCES or EPERM => new UnauthorizedAccessException($"cannot write {what} '{target}': permission denied"),
                ENOENT => new DirectoryNotFoundException($"cannot write {what} '{target}': no such directory"),
                ENAMETOOLONG => new PathTooLongException($"{what} path is too long: {target}"),
                _ => new IOException($"cannot create {what} '{target}': {Marshal.GetPInvokeErrorMessage(errno)}"),
            };
        }

        return StreamOver(fd, FileAccess.Write, bufferSize);
    }

    /// <summary>Moves <paramref name="from"/> onto <paramref name="to"/>, replacing it (File.Move with overwrite), also for
    /// names that are not UTF-8 (<see cref="PathFromBytes"/>).</summary>
    public static void Replace(string from, string to)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        if (!FileNames.HasEscapes(from) && !FileNames.HasEscapes(to))
        {
            File.Move(from, to, overwrite: true);
            return;
        }

        int errno = LinuxFiles.Rename(from, to);
        if (errno != 0)
        {
            throw new IOException($"cannot rename '{from}' to '{to}': {Marshal.GetPInvokeErrorMessage(errno)}");
        }
    }

    /// <summary>Deletes <paramref name="path"/> when it exists (File.Exists then File.Delete), also for a name that is not
    /// UTF-8.</summary>
    public static void DeleteIfExists(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!FileNames.HasEscapes(path))
        {
            if (File.Exists(path)) File.Delete(path);
            return;
        }

        const int ENOENT = 2;
        int errno = LinuxFiles.Unlink(path);
        if (errno != 0 && errno != ENOENT)
        {
            throw new IOException($"cannot delete '{path}': {Marshal.GetPInvokeErrorMessage(errno)}");
        }
    }

    /// <summary>
    /// Checks that a file can be created at <paramref name="path"/>: the path is not empty, not a directory, and its
    /// directory exists. (Permission is found out when the file is written.)
    /// </summary>
    /// <exception cref="IOException">the path is empty or a directory</exception>
    /// <exception cref="DirectoryNotFoundException">its directory does not exist</exception>
    public static void CheckOutputPath(string path, string what)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(what);
        if (path.Length == 0)
        {
            throw new IOException($"{what} path is empty");
        }

        if (IsDirectory(path))
        {
            throw new IOException($"{what} '{path}' is a directory; give a file name");
        }

        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory != null && !IsDirectory(directory))
        {
            throw new DirectoryNotFoundException($"cannot write {what} '{path}': directory '{directory}' does not exist");
        }
    }
}
