#pragma once
// The workbench's queue, in view: the run going and the runs queued behind it (status "queued"),
// each queued one cancelled or moved up and down; hidden while nothing is queued. GUI thread.

#include <QWidget>

QT_BEGIN_NAMESPACE
class QLabel;
class QListWidget;
class QPushButton;
class QSpinBox;
QT_END_NAMESPACE

namespace frugal::ui {

class RunController;

class QueuePanel : public QWidget {
    Q_OBJECT
public:
    QueuePanel(RunController* controller, QWidget* parent = nullptr);
    QListWidget* list() const { return m_list; }
    // The rows as shown ("queued · 2 · lr=1e-4").
    QStringList rows() const;

private:
    void refill();
    void move(int by);
    RunController* m_controller;
    QLabel* m_title;
    QListWidget* m_list;
    QPushButton *m_up, *m_down, *m_cancel, *m_clear;
    QSpinBox* m_parallel;
    QLabel* m_wait;
};

}  // namespace frugal::ui
