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
/// Marks a setting added after checkpoints were written whose default leaves the run as it was: at that default
/// (<c>default</c> of its type) it is left out of the fingerprint, so a run of the earlier version still resumes from
/// its checkpoint; any other value is in it.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class OmittedFromFingerprintAtDefaultAttribute : Attribute;

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
            object? member = property.GetValue(value);
            if (property.GetCustomAttribute<OmittedFromFingerprintAtDefaultAttribute>() is not null && Equals(member, DefaultOf(property.PropertyType))) continue;
            if (text.Length > 1) text.Append(';');
            text.Append(property.Name).Append('=').Append(Describe(member));
        }
        return text.Append('}').ToString();
    }

    private static object? DefaultOf(Type type) => type.IsValueType ? Activator.CreateInstance(type) : null;
}
