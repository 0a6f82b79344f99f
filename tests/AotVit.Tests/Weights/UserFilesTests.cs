// UserFiles and its callers: files a user names (checkpoints, images, outputs) fail with messages that say what and
// why, in words of our own (the NativeAOT CLI and library strip the runtime's resource strings, so its IO messages
// would read "IO_FileNotFound_FileName, /x.png"); endless inputs such as /dev/zero are read only up to the limit.

using System.Text;
using AotVit.Fuzzing;
using AotVit.Runtime.Imaging;
using AotVit.Runtime.Interop;
using AotVit.Runtime.Weights;
using Xunit;

namespace AotVit.Tests.Weights;

[Trait("Category", "Weights")]
public sealed class UserFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aotvit-userfiles-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Missing_file_directory_and_empty_path_have_plain_messages()
    {
        string missing = Path.Combine(_dir, "missing.safetensors");
        var notFound = Assert.Throws<FileNotFoundException>(() => UserFiles.OpenRead(missing, "checkpoint"));
        Assert.Equal($"checkpoint not found: {missing}", notFound.Message);
        Assert.Equal(missing, notFound.FileName);

        string inMissingDir = Path.Combine(_dir, "no-such-dir", "x.png");
        var noDir = Assert.Throws<FileNotFoundException>(() => UserFiles.OpenRead(inMissingDir, "image file"));
        Assert.Equal($"image file not found: {inMissingDir} (no such directory)", noDir.Message);

        var isDir = Assert.Throws<IOException>(() => UserFiles.OpenRead(_dir, "checkpoint"));
        Assert.Equal($"checkpoint '{_dir}' is a directory, not a file", isDir.Message);

        Assert.Equal("image file path is empty", Assert.Throws<FileNotFoundException>(() => UserFiles.OpenRead("", "image file")).Message);
    }

    [Fact]
    public void ReadAtMost_reads_up_to_the_limit_and_no_further()
    {
        string path = Path.Combine(_dir, "bytes.bin");
        byte[] data = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        File.WriteAllBytes(path, data);
        Assert.Equal(data, UserFiles.ReadAtMost(path, "image file", 1000));
        Assert.Equal(data, UserFiles.ReadAtMost(path, "image file", 5000));
        Assert.Null(UserFiles.ReadAtMost(path, "image file", 999));
        File.WriteAllBytes(path, []);
        Assert.Empty(UserFiles.ReadAtMost(path, "image file", 0)!);

        // An endless device reports length 0: read in chunks until one byte past the limit.
        if (File.Exists("/dev/zero"))
        {
            Assert.Null(UserFiles.ReadAtMost("/dev/zero", "image file", 100_000));
        }
    }

    [Fact]
    public void CheckOutputPath_names_the_missing_directory()
    {
        UserFiles.CheckOutputPath(Path.Combine(_dir, "new.md"), "markdown file");
        string inMissingDir = Path.Combine(_dir, "no-such-dir", "out.safetensors");
        var e = Assert.Throws<DirectoryNotFoundException>(() => UserFiles.CheckOutputPath(inMissingDir, "safetensors file"));
        Assert.Contains($"directory '{Path.Combine(_dir, "no-such-dir")}' does not exist", e.Message);
        Assert.Contains("is a directory", Assert.Throws<IOException>(() => UserFiles.CheckOutputPath(_dir, "markdown file")).Message);
        Assert.Equal("markdown file path is empty", Assert.Throws<IOException>(() => UserFiles.CheckOutputPath("", "markdown file")).Message);
    }

    [Fact]
    public void Create_names_the_file_the_user_asked_for_when_the_file_system_refuses()
    {
        string path = Path.Combine(_dir, "out.bin");
        using (FileStream stream = UserFiles.Create(path, "markdown file")) stream.WriteByte(7);
        Assert.Equal([7], File.ReadAllBytes(path));

        if (Directory.Exists("/proc/self"))
        {
            // /proc exists but takes no new files: open(O_CREAT) fails with ENOENT.
            var e = Assert.Throws<IOException>(() => UserFiles.Create("/proc/aotvit-test.md", "markdown file"));
            Assert.Equal("cannot create markdown file '/proc/aotvit-test.md': the file system does not allow a new file there", e.Message);
            var w = Assert.Throws<IOException>(() => SafeTensorsWriter.Write("/proc/aotvit-test.safetensors", Array.Empty<TensorData>()));
            Assert.StartsWith("cannot create safetensors file '/proc/aotvit-test.safetensors':", w.Message);
        }
    }

    [Fact]
    public void ImageDecoder_Load_stops_at_the_encoded_limit_and_names_missing_files()
    {
        var limits = new ImageLimits { MaxEncodedBytes = 4096 };
        if (File.Exists("/dev/zero"))
        {
            var endless = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Load("/dev/zero", limits));
            Assert.Contains("more than 4096 bytes", endless.Message);
        }

        string big = Path.Combine(_dir, "big.png");
        File.WriteAllBytes(big, new byte[4097]);
        Assert.Contains("more than 4096 bytes", Assert.Throws<ImageDecodeException>(() => ImageDecoder.Load(big, limits)).Message);

        string missing = Path.Combine(_dir, "missing.png");
        Assert.Equal($"image file not found: {missing}", Assert.Throws<FileNotFoundException>(() => ImageDecoder.Load(missing)).Message);
        Assert.Contains("is a directory", Assert.Throws<IOException>(() => ImageDecoder.Load(_dir)).Message);
    }

    [Fact]
    public void A_checkpoint_from_a_pipe_is_refused_clearly()
    {
        string fifo = Path.Combine(_dir, "checkpoint.fifo");
        Assert.Equal(0, RawFiles.MakeFifo(fifo));
        // No writer: opening the FIFO would wait for one forever, so the refusal has to come before the open.
        var error = Assert.Throws<CheckpointException>(() => SafeTensorsFile.Open(fifo));
        Assert.Contains("not a regular file (a pipe, socket or device)", error.Message);
        Assert.Contains("not a regular file", Assert.Throws<CheckpointException>(() => SafeTensorsFile.Open("/dev/zero")).Message);
    }

    [Fact]
    public void KindOf_tells_regular_files_directories_and_special_files_apart_following_links()
    {
        string file = Path.Combine(_dir, "file.png"), fifo = Path.Combine(_dir, "kind.fifo"), missing = Path.Combine(_dir, "missing.png");
        File.WriteAllBytes(file, [1, 2, 3]);
        Assert.Equal(0, RawFiles.MakeFifo(fifo));
        File.CreateSymbolicLink(Path.Combine(_dir, "to-file"), file);
        File.CreateSymbolicLink(Path.Combine(_dir, "to-fifo"), fifo);
        File.CreateSymbolicLink(Path.Combine(_dir, "dangling"), missing);
        Assert.Equal(LinuxFiles.PathKind.Regular, LinuxFiles.KindOf(file));
        Assert.Equal(LinuxFiles.PathKind.Regular, LinuxFiles.KindOf(Path.Combine(_dir, "to-file")));
        Assert.Equal(LinuxFiles.PathKind.Directory, LinuxFiles.KindOf(_dir));
        Assert.Equal(LinuxFiles.PathKind.Special, LinuxFiles.KindOf(fifo));
        Assert.Equal(LinuxFiles.PathKind.Special, LinuxFiles.KindOf(Path.Combine(_dir, "to-fifo")));
        Assert.Equal(LinuxFiles.PathKind.Special, LinuxFiles.KindOf("/dev/null"));
        Assert.Equal(LinuxFiles.PathKind.Unknown, LinuxFiles.KindOf(missing));
        Assert.Equal(LinuxFiles.PathKind.Unknown, LinuxFiles.KindOf(Path.Combine(_dir, "dangling")));
        Assert.Equal(LinuxFiles.PathKind.Unknown, LinuxFiles.KindOf(""));
    }

    [Fact]
    public void A_name_that_is_not_utf8_opens_by_its_escaped_bytes_and_the_lossy_name_says_why_it_cannot()
    {
        // "caf\xE9.png" (Latin-1): .NET lists it as "caf\uFFFD.png", a name that does not exist; FileNames gives
        // "caf\uDCE9.png", which UserFiles opens through its bytes.
        byte[] raw = [.. Encoding.UTF8.GetBytes(_dir + "/caf"), 0xE9, .. ".png"u8];
        byte[] png = File.ReadAllBytes(TestPaths.Data("images", "small.png"));
        RawFiles.Write(raw, png);
        try
        {
            string escaped = FileNames.Decode(raw);
            Assert.Equal(_dir + "/caf\uDCE9.png", escaped);
            var expected = ImageDecoder.Decode(png);
            var loaded = ImageDecoder.Load(escaped);
            Assert.Equal((expected.Width, expected.Height), (loaded.Width, loaded.Height));
            Assert.Equal(expected.Pixels, loaded.Pixels);
            Assert.Equal(LinuxFiles.PathKind.Regular, LinuxFiles.KindOf(escaped));
            Assert.Equal([Path.GetFileName(escaped)], LinuxFiles.ListDirectory(_dir, out _)!.Where(n => n.StartsWith("caf")));

            string listed = Assert.Single(Directory.GetFiles(_dir, "caf*"));
            Assert.Contains('\uFFFD', listed);
            var error = Assert.Throws<FileNotFoundException>(() => ImageDecoder.Load(listed));
            Assert.Equal($"image file not found: {listed}; if the name on disk is not valid UTF-8 (shown with \uFFFD), .NET cannot open it: " +
                         "rename it to UTF-8 (convmv -f latin1 -t utf8)", error.Message);
            // A plainly missing file says nothing about encodings; a missing escaped one is not found like any other.
            Assert.DoesNotContain("UTF-8", Assert.Throws<FileNotFoundException>(() => ImageDecoder.Load(Path.Combine(_dir, "none.png"))).Message);
            string missing = _dir + "/none\uDCE9.png";
            Assert.Equal($"image file not found: {missing}", Assert.Throws<FileNotFoundException>(() => ImageDecoder.Load(missing)).Message);
        }
        finally
        {
            RawFiles.Unlink(raw);   // Directory.Delete cannot name it
        }
    }

    [Fact]
    public void Outputs_with_names_that_are_not_utf8_are_created_renamed_and_deleted_by_their_bytes()
    {
        // "out\xE9" in a folder "d\xE9": .NET alone would write "out\uFFFD" (EF BF BD), another name.
        byte[] folderBytes = [.. Encoding.UTF8.GetBytes(_dir + "/d"), 0xE9];
        string folder = UserFiles.PathFromBytes(folderBytes);
        Assert.Contains("cannot write output file", Assert.Throws<DirectoryNotFoundException>(
            () => UserFiles.Create(folder + "/x.bin", "output file")).Message);   // the folder does not exist yet
        Assert.Equal(0, RawFiles.MakeDirectory(folderBytes));
        try
        {
            Assert.Contains("is a directory", Assert.Throws<IOException>(() => UserFiles.Create(folder, "output file")).Message);
            string output = folder + "/out\uDCE9", temporary = output + ".tmp";
            using (var stream = UserFiles.Create(temporary, "output file")) stream.Write([1, 2, 3]);
            UserFiles.Replace(temporary, output);
            Assert.Equal(LinuxFiles.PathKind.Unknown, LinuxFiles.KindOf(temporary));
            Assert.Equal([1, 2, 3], UserFiles.ReadAtMost(output, "output file", 16));
            Assert.Equal(["out\uDCE9"], LinuxFiles.ListDirectory(folder, out _)!);
            UserFiles.DeleteIfExists(output);
            UserFiles.DeleteIfExists(output);   // already gone: nothing to do
            Assert.Empty(LinuxFiles.ListDirectory(folder, out _)!);
        }
        finally
        {
            RawFiles.RemoveDirectory(folderBytes);   // Directory.Delete cannot name it
        }
    }

    [Fact]
    public void Checkpoint_open_and_write_have_plain_messages()
    {
        string missing = Path.Combine(_dir, "missing.safetensors");
        Assert.Equal($"checkpoint not found: {missing}", Assert.Throws<FileNotFoundException>(() => SafeTensorsFile.Open(missing)).Message);
        Assert.Equal($"checkpoint '{_dir}' is a directory, not a file", Assert.Throws<IOException>(() => SafeTensorsFile.Open(_dir)).Message);

        string inMissingDir = Path.Combine(_dir, "no-such-dir", "w.safetensors");
        var e = Assert.Throws<DirectoryNotFoundException>(() => SafeTensorsWriter.Write(inMissingDir, Array.Empty<TensorData>()));
        Assert.Contains("does not exist", e.Message);
        Assert.Empty(Directory.GetFiles(_dir));
    }
}
