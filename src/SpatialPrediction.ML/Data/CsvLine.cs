using System.Text;

namespace SpatialPrediction.ML.Data;

/// <summary>Fields of one CSV line as RFC 4180 writes them: comma-separated, optionally quoted, quotes doubled inside quotes.</summary>
internal static class CsvLine
{
    /// <summary>The fields of <paramref name="line"/>, unquoted and untrimmed.</summary>
    public static List<string> Split(string line)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
            else field.Append(c);
        }
        fields.Add(field.ToString());
        return fields;
    }
}
