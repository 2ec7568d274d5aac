using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace SpatialPrediction.ML.Cli;

/// <summary>
/// Offers every simple setting of an options object (numbers, booleans, enums, text; nullable ones too) as a typed
/// kebab-case System.CommandLine option, described by the property's XML documentation and its default, so the CLI
/// covers every option of <see cref="SpatialPretrainOptions"/> (and, prefixed <c>sp-</c>, of
/// <see cref="SpatialPredictionOptions"/>) without a list to keep in step by hand. The settings of an option group
/// (<c>Optimizer</c>, <c>Dino</c>, <c>Runtime</c>, SP's <c>ViewPairs</c>) are offered beside the others, under their
/// own names: a command line has no dots.
/// </summary>
internal sealed partial class OptionBinder
{
    private readonly List<(Option Option, PropertyInfo? Group, PropertyInfo Property)> bound = new();

    /// <summary>
    /// One option per settable simple property of <paramref name="defaults"/>' type, and of each of its
    /// <paramref name="groups"/>, except <paramref name="excluded"/>.
    /// </summary>
    public OptionBinder(object defaults, string prefix, ISet<string> excluded, params string[] groups)
    {
        Add(defaults, null, prefix, excluded);
        foreach (string name in groups)
        {
            var group = defaults.GetType().GetProperty(name) ?? throw new ArgumentException($"{defaults.GetType().Name} has no option group {name}.", nameof(groups));
            Add(group.GetValue(defaults)!, group, prefix, excluded);
        }
    }

    private void Add(object defaults, PropertyInfo? group, string prefix, ISet<string> excluded)
    {
        var type = defaults.GetType();
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                     .Where(p => p.CanWrite && IsSimple(p.PropertyType) && !excluded.Contains(p.Name)).OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            var valueType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            string name = "--" + prefix + Kebab(property.Name);
            var option = (Option)Activator.CreateInstance(typeof(Option<>).MakeGenericType(valueType), name, Array.Empty<string>())!;
            object? value = property.GetValue(defaults);
            string shown = value is null ? "automatic" : Convert.ToString(value, CultureInfo.InvariantCulture)!;
            option.Description = $"{Summary(property)} (default {shown})".TrimStart();
            if (valueType.IsEnum)
            {
                option.HelpName = string.Join("|", Enum.GetNames(valueType));
                SetEnumParser(option, valueType, name);
            }
            bound.Add((option, group, property));
        }
    }

    public IEnumerable<Option> Options => bound.Select(b => b.Option);

    /// <summary>
    /// Sets the properties whose options were given on the command line, a group's on <paramref name="target"/>'s own
    /// instance of that group (every options object makes its own, so nothing shared is changed).
    /// </summary>
    public void Bind(object target, ParseResult result)
    {
        foreach (var (option, group, property) in bound)
        {
            if (result.GetResult(option) is not { Implicit: false } given) continue;
            property.SetValue(group is null ? target : group.GetValue(target)!, given.GetValueOrDefault<object>());
        }
    }

    /// <summary>Enums by name, case-insensitive, and an error that lists the names (numbers are not names).</summary>
    private static void SetEnumParser(Option option, Type enumType, string name)
    {
        var method = typeof(OptionBinder).GetMethod(nameof(EnumParser), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(enumType);
        method.Invoke(null, new object[] { option, name });
    }

    private static void EnumParser<T>(Option<T> option, string name) where T : struct, Enum
        => option.CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (!text.All(char.IsAsciiDigit) && Enum.TryParse<T>(text, ignoreCase: true, out var value) && Enum.IsDefined(value)) return value;
            result.AddError($"{name} '{text}' is not one of {string.Join(", ", Enum.GetNames<T>())}.");
            return default;
        };

    private static bool IsSimple(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string);
    }

    /// <summary>The first sentence of the property's XML documentation, when the documentation file ships with the library.</summary>
    private static string Summary(PropertyInfo property)
    {
        var members = Documentation.Value;
        if (members is null) return "";
        string key = $"P:{property.DeclaringType!.FullName}.{property.Name}";
        if (!members.TryGetValue(key, out var summary)) return "";
        string text = WhiteSpace().Replace(summary, " ").Trim();
        int end = text.IndexOf(". ", StringComparison.Ordinal);
        return end > 0 ? text[..(end + 1)] : text;
    }

    private static readonly Lazy<Dictionary<string, string>?> Documentation = new(() =>
    {
        string path = Path.ChangeExtension(typeof(SpatialPretrainOptions).Assembly.Location, ".xml");
        if (!File.Exists(path)) return null;
        return XDocument.Load(path).Descendants("member")
            .Where(m => m.Element("summary") is not null)
            .ToDictionary(m => (string)m.Attribute("name")!, m => string.Concat(m.Element("summary")!.Nodes().Select(n => n is XElement e
                ? (string?)e.Attribute("cref")?.Value.Split('(')[0].Split('.').Last() ?? (string?)e.Attribute("langword") ?? e.Value
                : n.ToString())));
    });

    private static string Kebab(string name)
        => UpperCase().Replace(name.Replace("IoU", "Iou", StringComparison.Ordinal), m => (m.Index > 0 ? "-" : "") + m.Value.ToLowerInvariant());

    [GeneratedRegex("[A-Z]")]
    private static partial Regex UpperCase();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhiteSpace();
}
