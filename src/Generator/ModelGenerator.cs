using Microsoft.CodeAnalysis;

namespace AotVit.Generator
{
    [Generator(LanguageNames.CSharp)]
    public sealed partial class ModelGenerator : IIncrementalGenerator
    {
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
        }
    }
}
