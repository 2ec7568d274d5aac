using System.Reflection;
using System.Text.RegularExpressions;

namespace SpatialPrediction.ML.Cli;

/// <summary>
/// Maps every simple setting of an options object (numbers, booleans, enums, text; nullable ones too) onto a kebab-case
/// command-line option, so the CLI offers every option of <see cref="SpatialPretrainOptions"/> (and, prefixed
/// <c>sp-</c>, of <see cref="SpatialPredictionOptions"/>) without a list to keep in step by hand.
/// </summary>
internal static partial class OptionBinder
{
    /// <summary>Option name → (property, default value as text) for the settable simple properties of <paramref name="type"/>.</summary>
    public static Dictionary<string, PropertyInfo> Options(Type type, string prefix, ISet<string> excluded)
        => type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && IsSimple(p.PropertyType) && !excluded.Contains(p.Name))
            .ToDictionary(p => prefix + Kebab(p.Name), p => p, StringComparer.Ordinal);

    /// <summary>Sets the properties named in <paramref name="arguments"/> on <paramref name="target"/>.</summary>
    public static void Bind(object target, Dictionary<string, PropertyInfo> options, CommandArguments arguments)
    {
        foreach (var (name, text) in arguments.All)
        {
            if (!options.TryGetValue(name, out var property)) continue;
            var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            property.SetValue(target, CommandArguments.Convert(name, text, type));
        }
    }

    /// <summary>"--name (type, default value)" lines for the help text.</summary>
    public static IEnumerable<string> Describe(object defaults, Dictionary<string, PropertyInfo> options)
        => options.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o =>
        {
            var type = Nullable.GetUnderlyingType(o.Value.PropertyType) ?? o.Value.PropertyType;
            string kind = type.IsEnum ? string.Join("|", Enum.GetNames(type)) : type.Name.ToLowerInvariant();
            object? value = o.Value.GetValue(defaults);
            return $"  --{o.Key,-28} {kind} (default {(value is null ? "automatic" : Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture))})";
        });

    private static bool IsSimple(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(double) || type == typeof(float);
    }

    private static string Kebab(string name) => UpperCase().Replace(name, m => (m.Index > 0 ? "-" : "") + m.Value.ToLowerInvariant());

    [GeneratedRegex("[A-Z]")]
    private static partial Regex UpperCase();
}
