// The line between the caller's mistakes and the program's own. Every problem with what a user or caller gave — an
// image, a checkpoint, a size, an option value, a model name — is an InputException (or one of its subclasses), whose
// message is written here in plain words. Nothing else the runtime throws is an input error: an ArgumentException from
// a kernel precondition means the code calling the kernel is wrong, and is reported as an internal error. The CLI's
// exit codes, the C ABI's statuses and the Python exceptions are all derived from this split (IsInputError).
// Messages never rely on BCL text: NativeAOT builds with UseSystemResourceKeys reduce it to resource keys.
namespace AotVit.Runtime;

/// <summary>
/// What a user or caller gave is wrong: a value out of range, an unknown name, an image or checkpoint that cannot be
/// used. The message says what and why, in the runtime's own words. Subclasses name the kind where callers map it
/// further: <see cref="Imaging.ImageDecodeException"/>, <see cref="Weights.CheckpointException"/>,
/// <see cref="LimitExceededException"/>.
/// </summary>
public class InputException : Exception
{
    public InputException(string message) : base(message)
    {
    }

    public InputException(string message, Exception? innerException) : base(message, innerException)
    {
    }

    /// <summary>
    /// True when <paramref name="e"/> is the input's fault rather than the program's: an <see cref="InputException"/>, or
    /// a file that cannot be found, read or written (IOException, UnauthorizedAccessException; the runtime opens user
    /// files through UserFiles, whose messages name the file and the reason). Everything else is an internal error.
    /// </summary>
    public static bool IsInputError(Exception e) => e is InputException or IOException or UnauthorizedAccessException;
}

/// <summary>
/// An input is above a size limit the runtime sets to bound memory and time: an image whose resized intermediate would
/// exceed <see cref="Imaging.Preprocessor.MaxResizedPixels"/> (an extreme aspect ratio), or a batch above the per-call
/// limit. Not a decoding problem: the same input could be accepted with other limits or another model.
/// </summary>
public sealed class LimitExceededException(string message) : InputException(message);
