using Ziya2.Plugins.DataFilters;

namespace Ziya2.Plugins.Tests;

/// <summary>The decisions the language step takes before Lingua: only the overwhelming cases.</summary>
public class LanguageRulesTests
{
    [Fact]
    public void Plain_english_prose_is_decided_and_other_latin_languages_short_text_and_accents_are_left_to_lingua()
    {
        Assert.True(LanguageRules.IsPlainEnglish(
            "The data factory turns raw web pages into training text in five steps. Each step removes something and records why, " +
            "so that the funnel can be read from the statistics of every pipeline. It is not the model that is trained here but the data that is made."));
        // Man-page English: options and their descriptions, still one word in eight from the list.
        Assert.True(LanguageRules.IsPlainEnglish(
            "-a, --all do not ignore entries starting with . -l use a long listing format. If the file is a directory, list its contents; " +
            "when the option is not given, the default is to sort by name. The output is one line for each file that is found."));
        Assert.False(LanguageRules.IsPlainEnglish("Click here"));   // too few words to tell
        Assert.False(LanguageRules.IsPlainEnglish(
            "Der Befehl zeigt den Inhalt des Verzeichnisses an und die Optionen werden in der Reihenfolge ausgewertet, in der sie angegeben sind. " +
            "Wenn keine Datei angegeben ist, wird das aktuelle Verzeichnis verwendet und die Ausgabe ist nach Namen sortiert."));
        Assert.False(LanguageRules.IsPlainEnglish(
            "El programa muestra el contenido del directorio y las opciones se evalúan en el orden en que se dan. Si no se da ningún archivo, se usa el directorio actual."));
        Assert.False(LanguageRules.IsPlainEnglish(   // French without a single accent: the function words decide
            "Le programme affiche le contenu du dossier et les options sont lues dans l'ordre dans lequel elles sont donnees. Si aucun fichier est donne, le dossier courant est pris pour la sortie."));
        Assert.False(LanguageRules.IsPlainEnglish(   // English words around an accented name: not plain, Lingua decides
            "The café is where the data that is used for the model and the tests of the pipeline is made, and it is not the only one that is used by the team for this work."));
    }

    [Fact]
    public void Han_text_without_kana_or_hangul_is_chinese()
    {
        Assert.True(LanguageRules.IsHanWithoutKanaOrHangul("镇上的老磨坊，原来的手艺。ls 命令"));
        Assert.False(LanguageRules.IsHanWithoutKanaOrHangul("東京の天気は晴れです"));   // kana: Japanese
        Assert.False(LanguageRules.IsHanWithoutKanaOrHangul("한국어 텍스트 漢字"));
        Assert.False(LanguageRules.IsHanWithoutKanaOrHangul("mostly English with one 字"));
    }
}
