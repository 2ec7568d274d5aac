using System.Globalization;
using System.Reflection;
using System.Text;

namespace SpatialPrediction.ML.Training;

/// <summary>
/// Marks a setting that does not change the weights a run produces up to its last step (how it is observed,
/// stopped, checkpointed, or what is done with the result), so it is left out of the fingerprint.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class NotInFingerprintAttribute : Attribute;

/// <summary>
/// The text that identifies a run's settings, derived from the settings themselves: every public property, nested
/// records and option classes included member by member, in name order, numbers in the invariant culture. A setting
/// added later is part of it without a list to keep in step.
/// </summary>
internal static class SettingsFingerprint
{
    public const string Prefix = "v2 ";

    public static string Of(object settings) => Prefix + Describe(settings);

    private static string Describe(object? value)
    {
        switch (value)
        {
            case null: return "null";
            case string quoted: return "\"" + quoted + "\"";
            case float or double: return ((IFormattable)value).ToString("R", CultureInfo.InvariantCulture);
            case Enum or bool: return value.ToString()!;
        }
        var type = value.GetType();
        if (type.IsPrimitive) return Convert.ToString(value, CultureInfo.InvariantCulture)!;
        var text = new StringBuilder("{");
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                     .Where(p => p.GetIndexParameters().Length == 0 && p.SetMethod is not null && p.GetCustomAttribute<NotInFingerprintAttribute>() is null)
                     .OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            if (text.Length > 1) text.Append(';');
            text.Append(property.Name).Append('=').Append(Describe(property.GetValue(value)));
        }
        return text.Append('}').ToString();
    }
}
