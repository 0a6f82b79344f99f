// The single exception type for malformed or mismatching checkpoints (safetensors, torch zip, sharded index).
namespace AotVit.Runtime.Weights;

/// <summary>
/// A checkpoint is malformed, changed while it was read, or does not match what a model expects. The message names
/// the file and, where there is one, the tensor (also in <see cref="TensorName"/>).
/// </summary>
public sealed class CheckpointException : InputException
{
    /// <param name="message">What is wrong; the file and tensor names are prepended ("checkpoint 'f': tensor 't': ...").</param>
    public CheckpointException(string message, string? fileName = null, string? tensorName = null, Exception? inner = null)
        : this(message, fileName, tensorName, inner, tensorNameInMessage: false)
    {
    }

    private CheckpointException(string message, string? fileName, string? tensorName, Exception? inner, bool tensorNameInMessage)
        : base(Compose(message, fileName, tensorNameInMessage ? null : tensorName), inner)
    {
        FileName = fileName;
        TensorName = tensorName;
    }

    /// <summary>For messages that already name the tensor in their own words (binder errors): only the file is prepended.</summary>
    internal static CheckpointException NamingTensorItself(string message, string? fileName, string? tensorName) =>
        new(message, fileName, tensorName, inner: null, tensorNameInMessage: true);

    /// <summary>The tensor the problem is about, or null for file-level problems.</summary>
    public string? TensorName { get; }

    /// <summary>The file path (or display name for in-memory files), when known.</summary>
    public string? FileName { get; }

    private static string Compose(string message, string? fileName, string? tensorName)
    {
        string where = fileName is null ? "" : $"checkpoint '{fileName}': ";
        string what = tensorName is null ? "" : $"tensor '{tensorName}': ";
        return where + what + message;
    }
}
