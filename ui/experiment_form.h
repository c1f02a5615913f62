#pragma once
// The new-experiment form, built from the method's config schema (run::configSchema: every key
// its reader declares, with type, default, range and choices), so no method has a hand-written
// form. Method presets are the committed configs under experiments/; model and task pickers offer
// the built-in ones. Validation runs the same reader as `frugal run`, so the form shows the CLI's
// messages: once per edit on the GUI thread, the keys only (every problem of one reading, each on
// its field), then the inputs (task files, model, tokenizer), the trainable count and the memory
// estimate on a worker thread, whose PreparedRun the run starts from. Open/save TOML; queue a run
// or start it now. GUI thread.

#include <QMap>
#include <QPointer>
#include <QString>
#include <QSet>
#include <QVector>
#include <QShowEvent>
#include <QWidget>

#include "run_controller.h"

QT_BEGIN_NAMESPACE
class QThread;
class QCheckBox;
class QComboBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QPushButton;
class QTimer;
class QVBoxLayout;
QT_END_NAMESPACE

namespace frugal::ui {

struct Preset {
    QString label;
    QString file;  // a TOML config
};
// The method presets: committed configs under experiments/ that exist in this source tree, each
// label naming the task its config trains on.
QVector<Preset> methodPresets();
// A reader's message as the form shows it: without "the form (from an override): " before it.
QString formMessage(const QString& message);

class ExperimentForm : public QWidget {
    Q_OBJECT
public:
    explicit ExperimentForm(QWidget* parent = nullptr);
    ~ExperimentForm() override;

    // Fills the form from a config file (a preset or one's own); returns the error, or "".
    QString loadFile(const QString& path);
    // Fills the form from config TEXT (a stored run's, to run it again changed); SOURCE names it
    // in messages and NAME is the new run's name. Returns the error, or "".
    QString loadText(const QString& text, const QString& source, const QString& name);
    // Loads preset INDEX of methodPresets().
    void selectPreset(int index);
    QString method() const { return m_method; }
    // What the preset list shows: the preset loaded, or "Not a preset: FILE" for a config opened
    // or duplicated into the form.
    QString presetText() const;
    QStringList keys() const;
    QString fieldText(const QString& key) const;
    bool setFieldText(const QString& key, const QString& text);
    void setRunName(const QString& name);
    // Validates the form's keys with the CLI's reader (one reading, no input file opened) and
    // starts the check of its inputs on a worker; returns the keys' message or "" when they read.
    QString validate();
    // Waits (the event loop running) until the inputs' check of the last validate() is done, at
    // most MS milliseconds; whether it is done.
    bool waitForChecks(int ms = 60000);
    QString message() const;
    // What the run would train, counted from the model's config.json before it runs: "32,768 of
    // 4,212,992 parameters trainable (0.778%): lora r=8 on q,v"; "" for methods that train no
    // subset, or while the form is invalid.
    QString trainableText() const;
    QString resolvedConfig();  // the TOML the run would store ("" when invalid)
    // Whether KEY's row is shown: read under the current choices (run::keyUsed), or every key
    // shown (the "advanced" box). The others are folded away.
    bool keyShown(const QString& key) const;
    void setShowAllKeys(bool on);
    // The keys the last validate() flagged (all of them, not only the first).
    QStringList invalidKeys() const;
    // Model folders that prune runs of this database saved: offered in the model field, and what
    // a recovery config (keep_zeros = true) asks for.
    void setPrunedModels(const QStringList& folders);
    bool saveFile(const QString& path, QString* error = nullptr);
    void setRunning(bool running);
    // A grid: fields holding several values separated by commas ("lr = 1e-4, 3e-4, 1e-3"); Start
    // and Queue then queue every combination, each named by what differs ("lr=3e-4"). The number of
    // runs (1: no grid) and the axes as `frugal run -m` takes them.
    int gridSize() const;
    std::vector<std::string> gridAxes() const;

public slots:
    void startNow();
    void queue();

signals:
    void runRequested(const frugal::ui::RunJob& job, bool now);

protected:
    // A validation asked for while the form was hidden runs when it is shown: validating loads
    // the model's tokenizer (a 49,152-token one takes ~0.2 s), which a hidden form must not cost
    // the GUI thread.
    void showEvent(QShowEvent* event) override;

private:
    void presetChosen(int item);     // an entry of the preset list, by its index there
    void showSource(const QString& source);
    struct Field;
    struct InputCheck;
    void showProblems(const QString& message);
    void startInputCheck();
    void applyInputCheck(const InputCheck& check);
    // The config read, its keys only (MethodRequest::checkOnly): the resolved TOML and params.
    run::PreparedRun readKeys(const std::vector<std::string>& overrides) const;
    void rebuild(const QString& method, const QMap<QString, QString>& values);
    // KEY=VALUE for every field read or changed (a field left empty keeps the reader's default).
    std::vector<std::string> overrides() const;
    void updateRelevance();
    bool makeJob(RunJob& job);
    bool makeGridJobs(QVector<RunJob>& jobs);
    static bool isGridField(const Field& field);
    void openDialog();
    void saveDialog();
    void scheduleValidation();

    QString m_method, m_source, m_baseText;
    QComboBox* m_presets;
    QLineEdit* m_name;
    QWidget* m_fieldsHost;
    QVBoxLayout* m_fieldsLayout;
    QVector<Field*> m_fields;
    QLabel *m_message, *m_summary, *m_trainable;
    QPushButton *m_start, *m_queue;
    QTimer* m_validateTimer;
    bool m_validatePending = false;
    QCheckBox* m_showAll;
    QStringList m_prunedModels;
    bool m_running = false;
    bool m_keysValid = false;
    int m_checkGeneration = 0;  // of the inputs' check; a result of an older one is dropped
    bool m_checking = false;
    std::shared_ptr<run::PreparedRun> m_prepared;  // the last check's, while nothing changed
    QVector<QPointer<QThread>> m_workers;
};

}  // namespace frugal::ui
