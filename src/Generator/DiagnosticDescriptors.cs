using System;
using Microsoft.CodeAnalysis;

namespace AotVit.Generator
{
    /// <summary>Every diagnostic the generator reports. IDs are stable: see AnalyzerReleases.Shipped.md.</summary>
    internal static class DiagnosticDescriptors
    {
        private const string Category = "AotVit.Generator";

        public static readonly DiagnosticDescriptor InvalidJson = new DiagnosticDescriptor(
            "AOTVIT001", "Model JSON could not be parsed",
            "{0}: invalid JSON: {1}", Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor MissingField = new DiagnosticDescriptor(
            "AOTVIT002", "Required field missing",
            "{0}: required field '{1}' is missing", Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor WrongType = new DiagnosticDescriptor(
            "AOTVIT003", "Field has the wrong type",
            "{0}: field '{1}' must be {2}, found {3}", Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor InvalidValue = new DiagnosticDescriptor(
            "AOTVIT004", "Field value is not valid",
            "{0}: field '{1}' {2}", Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor UnsupportedModel = new DiagnosticDescriptor(
            "AOTVIT005", "Model type not supported",
            "{0}: {1}", Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor MissingCompanion = new DiagnosticDescriptor(
            "AOTVIT006", "Model folder incomplete",
            "{0}: {1}", Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor IgnoredSetting = new DiagnosticDescriptor(
            "AOTVIT007", "Setting has no effect at inference",
            "{0}: field '{1}' {2}", Category, DiagnosticSeverity.Info, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor InternalError = new DiagnosticDescriptor(
            "AOTVIT099", "Generator internal error",
            "{0}: the generator failed: {1}", Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
    }
}
